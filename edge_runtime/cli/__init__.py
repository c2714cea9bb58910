"""The `edgerun` command line: one parser, commands added by each package's `register`."""
