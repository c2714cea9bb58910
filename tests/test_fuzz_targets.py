"""Property-based fuzzing of every parser of outside bytes, in the normal suite.

The targets are `make fuzz`'s (fuzz/fuzz_targets.py): each swallows only the error types its
docstring documents, so any other exception fails here. Two strategies per target: random
bytes, and the committed seeds (valid inputs) with bytes flipped, cut or inserted, which is
what reaches past the headers and checksums. Kept small (max_examples) to stay fast; the long
coverage-guided runs are `make fuzz`.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

FUZZ = Path(__file__).resolve().parents[1] / "fuzz"
sys.path.insert(0, str(FUZZ))  # fuzz/ is not a package the distribution installs

from fuzz_targets import TARGETS  # noqa: E402

NAMES = sorted(TARGETS)
SEEDS = {name: sorted((FUZZ / "corpus" / name).iterdir()) for name in NAMES}
SETTINGS = settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow], database=None
)


def test_fuzz_every_target_has_seeds_and_documents_its_errors() -> None:
    assert set(NAMES) == {p.name for p in (FUZZ / "corpus").iterdir()}
    for name, run in TARGETS.items():
        assert SEEDS[name], name
        assert "May raise:" in (run.__doc__ or ""), name
        for seed in SEEDS[name]:
            run(seed.read_bytes())  # valid inputs pass without any undocumented error


@pytest.mark.parametrize("name", NAMES)
@SETTINGS
@given(data=st.binary(max_size=600))
def test_fuzz_random_bytes(name: str, data: bytes) -> None:
    TARGETS[name](data)


@st.composite
def mutated_seed(draw: st.DrawFn, name: str) -> bytes:
    seed = bytearray(draw(st.sampled_from(SEEDS[name])).read_bytes())
    for _ in range(draw(st.integers(1, 8))):
        if not seed:
            break
        pos = draw(st.integers(0, len(seed) - 1))
        action = draw(st.sampled_from(["flip", "cut", "insert", "delete"]))
        if action == "flip":
            seed[pos] ^= draw(st.integers(1, 255))
        elif action == "cut":
            del seed[pos:]
        elif action == "insert":
            seed[pos:pos] = draw(st.binary(min_size=1, max_size=8))
        else:
            del seed[pos : pos + draw(st.integers(1, 16))]
    return bytes(seed)


@pytest.mark.parametrize("name", NAMES)
@SETTINGS
@given(data=st.data())
def test_fuzz_mutated_seeds(name: str, data: st.DataObject) -> None:
    TARGETS[name](data.draw(mutated_seed(name)))
