"""Log records as Foxglove messages: well-known schemas where one exists, JSON schemas else.

Foxglove shows well-known schemas without configuration: images and depth
(`foxglove.CompressedImage`, `foxglove.RawImage` 16UC1, `foxglove.CameraCalibration`), joint
states and commands (`foxglove.JointStates`), events (`foxglove.Log`), all protobuf from
`foxglove-schemas-protobuf`. What has no well-known schema (loop timing, action chunks, the
world model's numbers) is JSON with a JSON schema, which Foxglove plots field by field. A
record becomes zero or more `(topic, message)` pairs; times are wall-clock nanoseconds.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from edge_runtime.recording.codecs import decode_color, decode_depth, encode_color

# topic -> (schema name, encoding); protobuf schemas name their foxglove_schemas_protobuf class
TOPICS: dict[str, tuple[str, str]] = {
    "/camera/color": ("foxglove.CompressedImage", "protobuf"),
    "/camera/depth": ("foxglove.RawImage", "protobuf"),
    "/camera/calibration": ("foxglove.CameraCalibration", "protobuf"),
    "/joint_states": ("foxglove.JointStates", "protobuf"),
    "/joint_commands": ("foxglove.JointStates", "protobuf"),
    "/loop_timing": ("edgerun.LoopTiming", "json"),
    "/action_chunks": ("edgerun.ActionChunk", "json"),
    "/world_model": ("edgerun.WorldModel", "json"),
    "/events": ("foxglove.Log", "protobuf"),
}


def camera_topic(topic: str, camera: str) -> str:
    """`/camera/color` of camera `camera`: itself for the primary (or only) camera, else
    `/camera/<camera>/color`; with `camera` "" the base topic of either form."""
    what = topic.rsplit("/", 1)[-1]
    return f"/camera/{camera}/{what}" if camera else f"/camera/{what}"


_NUMBER = {"type": "number"}
JSON_SCHEMAS: dict[str, dict[str, Any]] = {
    "edgerun.LoopTiming": {
        "tick": {"type": "integer"},
        "lateness_us": _NUMBER,
        "step_us": _NUMBER,
        "missed": {"type": "integer"},
        "mode": {"type": "string"},
    },
    "edgerun.ActionChunk": {
        "frame_number": {"type": "integer"},
        "observation_age_ms": _NUMBER,
        "inference_ms": _NUMBER,
        "dt_s": _NUMBER,
        "actions": {"type": "array", "items": {"type": "array", "items": _NUMBER}},
        "world_model": {"type": "object", "additionalProperties": _NUMBER},
    },
    "edgerun.WorldModel": {"values": {"type": "object", "additionalProperties": _NUMBER}},
}
LOG_LEVELS = {"fault": "ERROR", "stop": "ERROR", "world_model_surprise": "ERROR"}


def json_schema(name: str) -> bytes:
    stamp = {
        "type": "object",
        "properties": {"sec": {"type": "integer"}, "nsec": {"type": "integer"}},
    }
    properties = {"timestamp": stamp, **JSON_SCHEMAS[name]}
    return json.dumps({"title": name, "type": "object", "properties": properties}).encode()


def protobuf_class(name: str) -> Any:
    """The generated class of a Foxglove schema, e.g. "foxglove.RawImage"."""
    import importlib

    short = name.split(".", 1)[1]
    return getattr(importlib.import_module(f"foxglove_schemas_protobuf.{short}_pb2"), short)


def file_descriptor_set(message_class: Any) -> bytes:
    """The schema MCAP stores for a protobuf channel: the message's file and its imports."""
    from google.protobuf.descriptor_pb2 import FileDescriptorSet

    files = FileDescriptorSet()
    seen: set[str] = set()

    def add(descriptor: Any) -> None:
        if descriptor.name in seen:
            return
        seen.add(descriptor.name)
        for dependency in descriptor.dependencies:
            add(dependency)
        descriptor.CopyToProto(files.file.add())

    add(message_class.DESCRIPTOR.file)
    return files.SerializeToString()


@dataclass
class MessageMaker:
    """Turns log records into (topic, wall-clock ns, payload bytes)."""

    joint_names: list[str]
    offset_ns: int  # wall = monotonic + offset (0 when the log has no UTC anchor)

    def __post_init__(self) -> None:
        self._pb = {
            name: protobuf_class(name) for name, enc in TOPICS.values() if enc == "protobuf"
        }

    def _stamp(self, msg: Any, ns: int, field: str = "timestamp") -> None:
        getattr(msg, field).FromNanoseconds(ns)

    def _json(self, ns: int, body: dict[str, Any]) -> bytes:
        stamp = {"sec": ns // 1_000_000_000, "nsec": ns % 1_000_000_000}
        return json.dumps({"timestamp": stamp, **body}, allow_nan=False).encode()

    def messages(self, rec: dict[str, Any]) -> Iterator[tuple[str, int, bytes]]:
        kind = rec.get("k")
        if kind == "tick":
            yield from self._tick(rec)
        elif kind == "frame":
            yield from self._frame(rec)
        elif kind == "chunk":
            yield from self._chunk(rec)
        elif kind in ("event", "drops"):
            yield self._event(rec)

    def _joints(self, ns: int, positions: np.ndarray, velocities: np.ndarray | None) -> bytes:
        msg = self._pb["foxglove.JointStates"]()
        self._stamp(msg, ns)
        for j, name in enumerate(self.joint_names[: len(positions)]):
            joint = msg.joints.add(name=name, position=float(positions[j]))
            if velocities is not None:
                joint.velocity = float(velocities[j])
        return msg.SerializeToString()

    def _tick(self, rec: dict[str, Any]) -> Iterator[tuple[str, int, bytes]]:
        ns = rec["start_ns"] + self.offset_ns
        yield "/joint_states", ns, self._joints(ns, rec["pos"], rec["vel"])
        yield "/joint_commands", ns, self._joints(ns, rec["cmd"], None)
        timing = {
            "tick": rec["i"],
            "lateness_us": rec["lateness_ns"] / 1e3,
            "step_us": rec["step_ns"] / 1e3,
            "missed": rec["missed"],
            "mode": rec["mode"],
        }
        yield "/loop_timing", ns, self._json(ns, timing)

    def _frame(self, rec: dict[str, Any]) -> Iterator[tuple[str, int, bytes]]:
        """The primary (or only) camera on /camera/*, another camera on /camera/<name>/*."""
        camera = "" if "set" in rec else rec.get("cam", "")
        for topic, ns, payload in self._camera_messages(rec, camera or "camera"):
            yield camera_topic(topic, camera), ns, payload

    def _camera_messages(
        self, rec: dict[str, Any], frame_id: str
    ) -> Iterator[tuple[str, int, bytes]]:
        ns = rec["host_ns"] + self.offset_ns
        color = rec["color"]
        image = self._pb["foxglove.CompressedImage"](frame_id=frame_id, format="jpeg")
        self._stamp(image, ns)
        jpeg = color if color["codec"] == "jpeg" else encode_color(decode_color(color), "jpeg")
        image.data = jpeg["data"]
        yield "/camera/color", ns, image.SerializeToString()
        depth = decode_depth(rec["depth"])
        raw = self._pb["foxglove.RawImage"](
            frame_id=frame_id, width=depth.shape[1], height=depth.shape[0], encoding="16UC1"
        )
        raw.step = 2 * depth.shape[1]
        raw.data = depth.astype("<u2").tobytes()
        self._stamp(raw, ns)
        yield "/camera/depth", ns, raw.SerializeToString()
        yield "/camera/calibration", ns, self._calibration(ns, rec["intr"], frame_id)

    def _calibration(self, ns: int, intr: list[Any], frame_id: str = "camera") -> bytes:
        width, height, fx, fy, ppx, ppy, model, coeffs = intr
        calib = self._pb["foxglove.CameraCalibration"](
            frame_id=frame_id, width=width, height=height
        )
        calib.distortion_model = "plumb_bob" if "brown" in str(model) else str(model)
        calib.D.extend(float(c) for c in coeffs)
        calib.K.extend([fx, 0.0, ppx, 0.0, fy, ppy, 0.0, 0.0, 1.0])
        calib.R.extend([1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0])
        calib.P.extend([fx, 0.0, ppx, 0.0, 0.0, fy, ppy, 0.0, 0.0, 0.0, 1.0, 0.0])
        self._stamp(calib, ns)
        return calib.SerializeToString()

    def _chunk(self, rec: dict[str, Any]) -> Iterator[tuple[str, int, bytes]]:
        ns = rec["t_ns"] + self.offset_ns
        numbers = (rec.get("wm") or {}).items()
        world_model = {k: float(v) for k, v in numbers if np.isfinite(v)}  # JSON has no NaN
        body = {
            "frame_number": rec["n"],
            "observation_age_ms": (rec["t_ns"] - rec["t_obs_ns"]) / 1e6,
            "inference_ms": rec["inference_ns"] / 1e6,
            "dt_s": rec["dt_ns"] / 1e9,
            "actions": np.nan_to_num(rec["actions"]).tolist(),
            "world_model": world_model,
        }
        yield "/action_chunks", ns, self._json(ns, body)
        if world_model:
            yield "/world_model", ns, self._json(ns, {"values": world_model})

    def _event(self, rec: dict[str, Any]) -> tuple[str, int, bytes]:
        ns = rec["t_ns"] + self.offset_ns
        log = self._pb["foxglove.Log"]()
        if rec["k"] == "drops":
            name, text, level = "recorder_drop", f"{rec['count']} {rec['lane']} dropped", "WARNING"
        else:
            name, text = rec["kind"], rec["detail"]
            level = LOG_LEVELS.get(name, "INFO" if name == "episode" else "WARNING")
        log.name, log.message, log.level = name, text, log.Level.Value(level)
        self._stamp(log, ns)
        return "/events", ns, log.SerializeToString()
