"""Load an exported dataset with the real `lerobot` library, offline (tests only).

lerobot 0.4.4 imports torchvision at module level, though loading a dataset without image
transforms never calls it. PyPI's torchvision is built against CUDA torch, so beside the CPU
torch 2.13.0 of this project its C++ ops cannot load, and its `_meta_registrations` then
fails on `torchvision::nms`. Declaring the two op schemas it registers unconditionally (no
kernels) lets the real torchvision Python package import; everything that reads the dataset
(metadata, parquet through `datasets`, video through torchcodec/FFmpeg) is lerobot's own code.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

_schemas: Any = None


def _declare_torchvision_ops() -> None:
    global _schemas
    import torch

    if _schemas is not None or hasattr(torch.ops.torchvision, "nms"):
        return
    try:
        import torchvision  # noqa: F401  (a matching CPU build imports as it is)

        return
    except RuntimeError:
        pass
    _schemas = torch.library.Library("torchvision", "DEF")  # kept alive: the ops stay declared
    _schemas.define("nms(Tensor dets, Tensor scores, float iou_threshold) -> Tensor")
    _schemas.define("qnms(Tensor dets, Tensor scores, float iou_threshold) -> Tensor")


@contextlib.contextmanager
def offline_hub(cache: Path) -> Iterator[None]:
    """Hugging Face libraries offline, their parquet->arrow cache in `cache`, env restored."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("HF_HUB_OFFLINE", "1")
        patch.setenv("HF_HOME", str(cache))
        yield


def lerobot_dataset(root: Path) -> Any:
    """`LeRobotDataset("edgerun/test", root=root)`; skips when lerobot is not installed.

    Call it inside `offline_hub` (the module fixture of the tests does).
    """
    assert os.environ.get("HF_HUB_OFFLINE") == "1", "load datasets offline only"
    pytest.importorskip("lerobot", reason="lerobot is installed by tools/setup.sh (dev)")
    pytest.importorskip("torchcodec", reason="torchcodec decodes LeRobot's videos")
    _declare_torchvision_ops()
    from lerobot.datasets.lerobot_dataset import LeRobotDataset

    return LeRobotDataset("edgerun/test", root=root, video_backend="torchcodec")
