"""A task-gate refusal of an auto-mixed bundle: the retries with more layers in float."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from export.config import ExportConfig
from export.errors import TaskGateRefusedError
from export.sensitivity import LayerSensitivity, candidate_ladder
from export.task_recheck import next_float_layers, write_with_recheck


@dataclass
class Selection:
    """What `MixedPrecisionResult` offers the retry: the chosen layers and the ranking."""

    float_layers: tuple[str, ...] | None
    ranked: list[LayerSensitivity]

    def sensitivity_ranking(self) -> list[LayerSensitivity]:
        return self.ranked


def _ranked(*names: str) -> list[LayerSensitivity]:
    return [LayerSensitivity(n, "MatMul", 0.1 / (i + 1)) for i, n in enumerate(names)]


def test_exp_ladder_grows_by_the_given_sizes() -> None:
    ranked = _ranked("a", "b", "c", "d", "e")
    assert candidate_ladder(ranked, ("b",), 3) == [("b",), ("b", "a"), ("b", "a", "c")]
    assert candidate_ladder(ranked, ("b",), sizes=(1, 4, 16)) == [
        ("b", "a"),
        ("b", "a", "c", "d", "e"),  # 16 is more than there are: left out
    ]


def test_exp_retries_add_each_roles_next_sensitive_layers() -> None:
    mixed = {
        "encoder": Selection((), _ranked("e1", "e2")),
        "policy": Selection(("p1",), _ranked("p1", "p2", "p3", "p4", "p5", "p6")),
        "head": Selection(None, _ranked("h1")),  # failed even in float: nothing to add
    }
    assert next_float_layers(mixed) == [
        {"encoder": ("e1",), "policy": ("p1", "p2")},
        {"policy": ("p1", "p2", "p3", "p4", "p5")},
    ]


def test_exp_the_exporter_tries_the_next_candidates_before_refusing() -> None:
    mixed = {"policy": Selection((), _ranked("p1", "p2", "p3", "p4", "p5"))}
    tried: list[dict[str, tuple[str, ...]]] = []

    def write(config: ExportConfig) -> str:
        tried.append(config.mixed_float_layers)
        if len(config.mixed_float_layers.get("policy", ())) < 4:
            raise TaskGateRefusedError(f"refused with {config.mixed_float_layers}", mixed)
        return "bundle"

    assert write_with_recheck(write, ExportConfig(auto_mixed=True)) == "bundle"
    assert tried == [{}, {"policy": ("p1",)}, {"policy": ("p1", "p2", "p3", "p4")}]

    def never(config: ExportConfig) -> str:
        raise TaskGateRefusedError(f"refused with {config.mixed_float_layers}", mixed)

    with pytest.raises(TaskGateRefusedError, match="p4") as refused:  # the last step's reason
        write_with_recheck(never, ExportConfig(auto_mixed=True))
    assert refused.value.exit_code == 3

    def not_mixed(config: ExportConfig) -> str:
        tried.append(config.mixed_float_layers)
        raise TaskGateRefusedError("refused")  # no auto-mixed roles: nothing to retry

    tried.clear()
    with pytest.raises(TaskGateRefusedError):
        write_with_recheck(not_mixed, ExportConfig())
    assert tried == [{}]
