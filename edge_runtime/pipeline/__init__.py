"""The runtime process's room: inference worker, bundle policy, preprocessing, observers, the
`Runtime` that starts the control process, and the run report."""
