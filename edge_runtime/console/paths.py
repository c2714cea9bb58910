"""Names from a browser become paths only inside the robot's data directories.

Every endpoint that reads or writes a file takes a *name* (a log, an image set, a camera),
never a path, and resolves it here: absolute names, `..`, and symlinks that lead out of the
root are refused with the same sentence, so a request cannot reach /etc or a bundle key.
"""

from __future__ import annotations

import re
from pathlib import Path

from edge_runtime.errors import EdgeRuntimeError

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")


class ConsoleRequestError(EdgeRuntimeError):
    """A request the console refuses; `status` is the HTTP status it answers with."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


def inside(root: Path, name: str) -> Path:
    """`root/name`, refused unless `name` is one plain name that stays inside `root`."""
    resolved_root = Path(root).resolve()
    candidate = (resolved_root / name).resolve()
    if not _NAME.match(name) or candidate.parent != resolved_root:
        raise ConsoleRequestError(
            f"{name!r} is not a name in {resolved_root}; the console only opens files inside "
            "the robot's data directories, by name (pick one from the list)",
            status=404,
        )
    return candidate


def names_in(root: Path, pattern: str = "*") -> list[str]:
    """The plain names in `root` matching `pattern`, sorted; [] when `root` does not exist."""
    if not Path(root).is_dir():
        return []
    return sorted(p.name for p in Path(root).glob(pattern) if _NAME.match(p.name))
