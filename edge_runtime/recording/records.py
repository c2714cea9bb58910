"""What each record kind holds, both ways: runtime objects <-> msgpack maps.

Kinds: ``start`` (joint names, period), ``tick`` (one `TickRecord`), ``frame`` (one `Frame`,
color and depth compressed), ``chunk`` (one `ActionChunk`), ``event`` (safety events and
faults), ``drops`` (what the recorder could not keep), ``stop``. Short keys keep a 100 Hz tick
record near 400 bytes; docs/recording.md is the full list.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from edge_runtime.pipeline.observer import ActionChunk, TickRecord
from edge_runtime.recording.codecs import decode_color, decode_depth, encode_color, encode_depth
from edge_runtime.sensors.base import Frame, Intrinsics
from edge_runtime.sensors.frame_set import FrameSet


def tick_to_record(tick: TickRecord) -> dict[str, Any]:
    return {
        "k": "tick",
        "i": tick.index,
        "deadline_ns": tick.deadline_ns,
        "start_ns": tick.start_ns,
        "lateness_ns": tick.lateness_ns,
        "missed": tick.missed,
        "pos": np.asarray(tick.positions_rad, np.float64),
        "vel": np.asarray(tick.velocities_rad_s, np.float64),
        "cur": np.asarray(tick.currents_a, np.float64),
        "cmd": np.asarray(tick.command_rad, np.float64),
        "prop": np.asarray(tick.proposed_rad, np.float64),
        "mode": tick.mode,
        "step_ns": tick.step_ns,
    }


def tick_from_record(rec: dict[str, Any]) -> TickRecord:
    return TickRecord(
        index=rec["i"],
        deadline_ns=rec["deadline_ns"],
        start_ns=rec["start_ns"],
        lateness_ns=rec["lateness_ns"],
        missed=rec["missed"],
        positions_rad=rec["pos"],
        velocities_rad_s=rec["vel"],
        currents_a=rec["cur"],
        command_rad=rec["cmd"],
        proposed_rad=rec["prop"],
        mode=rec["mode"],
        step_ns=rec["step_ns"],
    )


def frame_meta(frame: Frame) -> dict[str, Any]:
    """A frame's stamps and intrinsics as a record stores them (everything but the pixels).

    A multi-camera robot's frames name their camera (`cam`); the primary camera's record of
    a frame set also lists the set's cameras (`set`), whose records follow it (`frame_sets`).
    A lone camera's records have neither key, as before.
    """
    intr = frame.intrinsics
    names: dict[str, Any] = {"cam": frame.camera} if frame.camera else {}
    if isinstance(frame, FrameSet):
        names["set"] = list(frame.cameras)
    return {
        **names,
        "n": frame.frame_number,
        "dev_ms": frame.device_time_ms,
        "host_ns": frame.host_time_ns,
        "dev_clock": frame.device_clock,
        "scale": frame.depth_scale_m,
        "intr": [
            intr.width, intr.height, intr.fx, intr.fy, intr.ppx, intr.ppy, intr.model,
            list(intr.coeffs),
        ],
    }  # fmt: skip


def frame_to_record(
    frame: Frame, color_codec: str = "jpeg", jpeg_quality: int = 90, depth_codec: str = "zlib-delta"
) -> dict[str, Any]:
    return {
        "k": "frame",
        **frame_meta(frame),
        "color": encode_color(frame.color, color_codec, jpeg_quality),
        "depth": encode_depth(frame.depth, depth_codec),
    }


def frame_from_record(rec: dict[str, Any]) -> Frame:
    w, h, fx, fy, ppx, ppy, model, coeffs = rec["intr"]
    return Frame(
        color=decode_color(rec["color"]),
        depth=decode_depth(rec["depth"]),
        depth_scale_m=rec["scale"],
        intrinsics=Intrinsics(w, h, fx, fy, ppx, ppy, model, tuple(coeffs)),
        device_time_ms=rec["dev_ms"],
        host_time_ns=rec["host_ns"],
        frame_number=rec["n"],
        device_clock=rec.get("dev_clock", ""),
        camera=rec.get("cam", ""),
    )


def chunk_to_record(chunk: ActionChunk, received_ns: int) -> dict[str, Any]:
    record = {
        "k": "chunk",
        "t_obs_ns": chunk.t_obs_ns,
        "dt_ns": chunk.dt_ns,
        "actions": np.asarray(chunk.actions, np.float64),
        "inference_ns": chunk.inference_ns,
        "n": chunk.frame_number,
        "t_ns": received_ns,
    }
    # The joint positions the policy was given, when the runtime provides them: replay then
    # feeds exactly the robot's observation instead of the nearest recorded tick.
    if chunk.joint_positions is not None:
        record["joints"] = np.asarray(chunk.joint_positions, np.float64)
    if chunk.world_model:
        record["wm"] = {k: float(v) for k, v in chunk.world_model.items()}
    return record


def chunk_from_record(rec: dict[str, Any]) -> ActionChunk:
    return ActionChunk(
        t_obs_ns=rec["t_obs_ns"],
        dt_ns=rec["dt_ns"],
        actions=rec["actions"],
        inference_ns=rec["inference_ns"],
        frame_number=rec["n"],
    )


def event_record(kind: str, detail: str, stamp_ns: int) -> dict[str, Any]:
    return {"k": "event", "kind": kind, "detail": detail, "t_ns": stamp_ns}
