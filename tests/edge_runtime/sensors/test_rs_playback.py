"""Playback of .db3 recordings made at test time through pyrealsense2's software_device."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest

from edge_runtime.errors import CameraError, StaleFrameError
from edge_runtime.sensors.realsense import PlaybackCamera
from edge_runtime.sensors.realsense_playback import PlaybackReader
from edge_runtime.sensors.realsense_synth import write_synthetic_recording
from edge_runtime.sensors.synthetic_scene import scene_frame

pytest.importorskip("pyrealsense2", reason="pyrealsense2 (and libusb-1.0-0) not installed")

FRAMES, W, H, FPS = 16, 160, 120, 30


@pytest.fixture(scope="module")
def recording(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("rs") / "scene.db3"
    return write_synthetic_recording(path, FRAMES, W, H, FPS)


START_LOSS = 3  # frames librealsense may drop as playback starts


def test_rs_playback_gives_paired_aligned_frames(recording: Path) -> None:
    with PlaybackReader(recording) as reader:
        frames = []
        while (frame := reader.next_frame()) is not None:
            frames.append(frame)
        counters = reader.counters()
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
        for _ in range(200):  # bounded wait for the end of the recording
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


def test_rs_recording_without_color_is_one_sentence(tmp_path: Path) -> None:
    path = write_synthetic_recording(tmp_path / "depth.db3", 3, W, H, streams=("depth",))
    with pytest.raises(CameraError, match=r"has no color stream; record both depth and color"):
        PlaybackReader(path).open()


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
    with pytest.raises(CameraError, match=message):
        PlaybackReader(path).open()
