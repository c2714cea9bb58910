"""Commands registered by this module (filled in by its issue)."""

from __future__ import annotations

from edge_runtime.cli.tree import CommandTree


def register(cli: CommandTree) -> None:
    """Add this module's commands to `edgerun`."""
