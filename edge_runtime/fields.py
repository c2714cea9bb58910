"""Reading the files a user writes: one TOML loader, and typed getters for one table.

Shared by the robot config, the export config and bundle spec, the bundle manifest, the
calibration artifacts and poses files, so every file a user writes is read and checked the same
way: a missing or malformed file is one sentence, and unknown keys (typos) are refused, not
ignored.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from edge_runtime.errors import ConfigError
from edge_runtime.toml_compat import tomllib

_MISSING = object()


def load_toml(path: str | Path, error: type[Exception], what: str, hint: str) -> dict[str, Any]:
    """The parsed TOML file, or `error` with one sentence: what is wrong, where, how to fix it.

    `what` names the file for the user ("config file", "bundle spec"); `hint` says how to give
    the right one ("pass --config with a robot TOML").
    """
    path = Path(path)
    if not path.is_file():
        raise error(f"{what} {path} does not exist; {hint}")
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise error(f"{path} is not valid TOML ({exc}); fix the syntax there") from exc


class Section:
    """One table of a parsed TOML/JSON document. Call `done()` to refuse unknown keys."""

    def __init__(
        self,
        data: dict[str, Any],
        name: str,
        where: str,
        *,
        required: bool = False,
        label: str | None = None,
        error: type[Exception] = ConfigError,
    ) -> None:
        self.where = where
        self.label = label or f"[{name}]"
        self.error = error
        value = data.get(name, _MISSING)
        if value is _MISSING:
            if required:
                raise error(f"{where}: section {self.label} is missing; add it")
            value = {}
        if not isinstance(value, dict):
            raise error(f"{where}: {self.label} must be a table, got {value!r}")
        self.data: dict[str, Any] = value
        self.used: set[str] = set()

    def _fail(self, key: str, value: Any, why: str) -> Exception:
        return self.error(f"{self.where}: {self.label} {key} = {value!r} is invalid: {why}")

    def _get(self, key: str, default: Any) -> Any:
        self.used.add(key)
        if key in self.data:
            return self.data[key]
        if default is _MISSING:
            raise self.error(f"{self.where}: {self.label} is missing the key '{key}'; add it")
        return default

    def string(self, key: str, default: Any = _MISSING) -> str:
        value = self._get(key, default)
        if not isinstance(value, str):
            raise self._fail(key, value, "must be a string in quotes")
        return value

    def string_list(self, key: str, default: Any = _MISSING) -> list[str]:
        value = self._get(key, default)
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise self._fail(key, value, 'must be a list of strings, e.g. ["a", "b"]')
        return list(value)

    def boolean(self, key: str, default: Any = _MISSING) -> bool:
        value = self._get(key, default)
        if not isinstance(value, bool):
            raise self._fail(key, value, "must be true or false")
        return value

    def integer(
        self,
        key: str,
        default: Any = _MISSING,
        *,
        minimum: int | None = None,
        maximum: int | None = None,
    ) -> int:
        value = self._get(key, default)
        if isinstance(value, bool) or not isinstance(value, int):
            raise self._fail(key, value, "must be a whole number")
        if minimum is not None and value < minimum:
            raise self._fail(key, value, f"must be >= {minimum}")
        if maximum is not None and value > maximum:
            raise self._fail(key, value, f"must be <= {maximum}")
        return value

    def number(
        self,
        key: str,
        default: Any = _MISSING,
        *,
        positive: bool = False,
        minimum: float | None = None,
        maximum: float | None = None,
        example: str | None = None,
    ) -> float:
        value = self._get(key, default)
        hint = f", e.g. {example}" if example else ""
        if (
            isinstance(value, bool)
            or not isinstance(value, (int, float))
            or not math.isfinite(value)
        ):
            raise self._fail(key, value, f"must be a finite number{hint}")
        if positive and value <= 0:
            raise self._fail(key, value, f"must be > 0{hint}")
        if minimum is not None and value < minimum:
            raise self._fail(key, value, f"must be >= {minimum}{hint}")
        if maximum is not None and value > maximum:
            raise self._fail(key, value, f"must be <= {maximum}{hint}")
        return float(value)

    def numbers(self, key: str, length: int | None = None, default: Any = _MISSING) -> list[float]:
        value = self._get(key, default)
        if not isinstance(value, list) or not all(
            isinstance(v, (int, float)) and not isinstance(v, bool) for v in value
        ):
            raise self._fail(key, value, "must be a list of numbers")
        if length is not None and len(value) != length:
            raise self._fail(key, value, f"must have {length} numbers")
        return [float(v) for v in value]

    def choice(self, key: str, choices: Sequence[str], default: Any = _MISSING) -> str:
        value = self._get(key, default)
        if value not in choices:
            raise self._fail(key, value, f"must be one of {', '.join(repr(c) for c in choices)}")
        return value

    def table(self, key: str, default: Any = _MISSING) -> dict[str, Any]:
        value = self._get(key, default)
        if not isinstance(value, dict):
            raise self._fail(key, value, "must be a table")
        return value

    def done(self) -> None:
        unknown = sorted(set(self.data) - self.used)
        if unknown:
            known = ", ".join(sorted(self.used))
            raise self.error(
                f"{self.where}: unknown key '{unknown[0]}' in {self.label}; valid keys are {known}"
            )
