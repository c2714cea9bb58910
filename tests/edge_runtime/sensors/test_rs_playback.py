"""Playback of .db3 recordings made at test time through pyrealsense2's software_device.

Every test runs in a forked child (`isolated`, tests/edge_runtime/isolation.py) and the
recordings are written in children too: librealsense can abort the interpreter from its own
threads, and then only that test fails.
"""

from __future__ import annotations

import re
import time
from pathlib import Path

import numpy as np
import pytest
from isolation import run_in_child

from edge_runtime.errors import CameraError, StaleFrameError
from edge_runtime.sensors.camera_check import check_playback
from edge_runtime.sensors.realsense import PlaybackCamera
from edge_runtime.sensors.realsense_device import rgbd_problems
from edge_runtime.sensors.realsense_playback import PlaybackReader
from edge_runtime.sensors.realsense_synth import write_synthetic_recording
from edge_runtime.sensors.synthetic_scene import scene_frame

pytest.importorskip("pyrealsense2", reason="pyrealsense2 (and libusb-1.0-0) not installed")
pytestmark = pytest.mark.isolated

FRAMES, W, H, FPS = 16, 160, 120, 30


@pytest.fixture(scope="module")
def recording(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("rs") / "scene.db3"
    return run_in_child(write_synthetic_recording, path, FRAMES, W, H, FPS)


START_LOSS = 3  # frames librealsense may drop as playback starts


def _read_all(path: Path) -> tuple[list, dict[str, int]]:
    with PlaybackReader(path) as reader:
        frames = []
        while (frame := reader.next_frame()) is not None:
            frames.append(frame)
        return frames, reader.counters()


def test_rs_playback_gives_paired_aligned_frames(recording: Path) -> None:
    frames, counters = _read_all(recording)
    numbers = [f.frame_number for f in frames]
    # librealsense may lose the first frames when playback starts (PlaybackReader.open);
    # from the first frame delivered on, none may be missing.
    assert numbers[0] <= START_LOSS
    assert numbers == list(range(numbers[0], FRAMES))
    assert counters["paired"] == len(frames)
    for frame in frames:
        color, depth = scene_frame(frame.frame_number, W, H)
        np.testing.assert_array_equal(frame.color, color)  # right frame, RGB order kept
        assert frame.device_time_ms == pytest.approx(frame.frame_number * 1000 / FPS)
        valid = (frame.depth > 0) & (depth > 0)
        # Aligned to color across the 15 mm baseline: same scene, nearly the same depths.
        assert np.median(np.abs(frame.depth[valid].astype(int) - depth[valid])) < 20
    first = frames[0]
    assert first.depth.dtype == np.uint16
    assert first.depth.shape == (H, W)
    assert first.depth_scale_m == pytest.approx(0.001)
    assert (first.intrinsics.width, first.intrinsics.height) == (W, H)
    assert first.intrinsics.fx == pytest.approx(0.9 * W)


def test_rs_playback_camera_runs_on_its_thread(recording: Path) -> None:
    camera = PlaybackCamera(recording)
    with camera:
        for _ in range(500):  # bounded wait for the end of the recording
            if camera.finished:
                break
            time.sleep(0.02)
        assert camera.finished
        frame = camera.read_latest(max_age_s=60.0)
        assert frame.frame_number == FRAMES - 1
        with pytest.raises(StaleFrameError, match="old"):
            camera.read_latest(max_age_s=1e-9)
    assert camera.frames_captured >= FRAMES - START_LOSS
    assert camera.counters()["dropped"] == 0


# Shapes other tools write: what the runtime can play, and how the frames must come out.
USABLE = {
    "no device info": {"serial": None, "name": None},
    "color sensor first": {"streams": ("color", "depth")},
    "depth at its own resolution": {"depth_size": (96, 72)},
    "bgr8 color": {"color_format": "bgr8"},
    "15 fps, 96x64": {"fps": 15, "width": 96, "height": 64},
}


@pytest.mark.parametrize("shape", USABLE)
def test_rs_recordings_from_other_tools_play(tmp_path: Path, shape: str) -> None:
    options = {"width": 64, "height": 48, "fps": 30, **USABLE[shape]}
    w, h = options.pop("width"), options.pop("height")
    path = write_synthetic_recording(tmp_path / "r.db3", 8, w, h, **options)
    frames, counters = _read_all(path)
    assert len(frames) >= 8 - START_LOSS
    assert counters["dropped"] == 0
    for frame in frames:
        np.testing.assert_array_equal(frame.color, scene_frame(frame.frame_number, w, h)[0])
        assert frame.depth.shape == (h, w)  # aligned to color, whatever depth's own size
        assert frame.depth_scale_m == pytest.approx(0.001)
    result = check_playback(path)
    assert result["problems"] == []
    assert result["serial"] == ("" if shape == "no device info" else "000000000000")
    assert result["streams"]["color"]["fps"] == options.get("fps", 30)


UNUSABLE = {
    "depth only": ({"streams": ("depth",)}, "has no color stream (it has depth); the runtime "),
    "color only": ({"streams": ("color",)}, "has no depth stream (it has color); the runtime "),
    "no depth units": ({"depth_units_m": None}, "does not record the depth units"),
}


@pytest.mark.parametrize("shape", UNUSABLE)
def test_rs_unusable_recordings_are_read_and_told_in_one_sentence(
    tmp_path: Path, shape: str
) -> None:
    options, message = UNUSABLE[shape]
    path = write_synthetic_recording(tmp_path / "r.db3", 5, 64, 48, **options)
    with pytest.raises(CameraError, match=re.escape(message)):
        PlaybackReader(path).open()  # the runtime's case: refused before playing
    result = check_playback(path)  # `camera check`: reads what is there
    (problem,) = result["problems"]
    assert message in problem
    assert result["paired"] == 0
    for kind in options.get("streams", ("depth", "color")):
        assert 5 - START_LOSS <= result["streams"][kind]["frames"] <= 5


def test_rs_unsupported_formats_are_named() -> None:
    streams = {
        "depth": {"format": "disparity16", "depth_units": 0.001},
        "color": {"format": "yuyv"},
    }
    problems = rgbd_problems(Path("x.db3"), streams)
    assert problems == [
        "x.db3 has color as yuyv; the runtime reads rgb8, bgr8, rgba8, bgra8: record color "
        "in one of those",
        "x.db3 has depth as disparity16; the runtime reads z16: record z16 depth",
    ]


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("missing.db3", None, "does not exist"),
        ("clip.mp4", b"x", "not a RealSense recording"),
        ("broken.db3", b"not sqlite at all" * 10, "cannot be played back"),
    ],
)
def test_rs_bad_recordings_are_one_sentence(
    tmp_path: Path, name: str, content: bytes | None, message: str
) -> None:
    path = tmp_path / name
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(CameraError, match=re.escape(message)):
        PlaybackReader(path).open()
