"""`edgerun log export --format mcap`: one episode log into one MCAP file for Foxglove.

Every record becomes messages on fixed topics (`mcap_messages.TOPICS`) with schemas Foxglove
knows, in the log's order, in one pass; JPEG color is copied, depth is decoded to 16-bit raw
(what `foxglove.RawImage` carries) and the file's chunks are compressed. Message times are
wall-clock (UTC) when the log has an anchor, so Foxglove's timeline shows when the run
happened; the start record (what ran) is the file's `edgerun.start` metadata. The `mcap`
library and Foxglove's protobuf schemas are imported only here (`edge-runtime[data]`).
"""

from __future__ import annotations

import json
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from edge_runtime.recording.export_jobs import check_new_output, run_jobs
from edge_runtime.recording.format import LogError
from edge_runtime.recording.mcap_messages import (
    TOPICS,
    MessageMaker,
    camera_topic,
    file_descriptor_set,
    json_schema,
    protobuf_class,
)
from edge_runtime.recording.reader import LogReader


@dataclass(frozen=True)
class McapJob:
    log: Path
    out: Path
    compression: str = "lz4"  # lz4 (2x faster to write), zstd (2/3 the size) or none


def _import_mcap() -> Any:
    try:
        from mcap import writer
    except ImportError as exc:
        raise LogError(
            f"the mcap library cannot be imported ({exc}); install the export tools with "
            "pip install 'edge-runtime[data]'"
        ) from exc
    return writer


def _first_start(path: Path) -> dict[str, Any]:
    for rec in LogReader(path):
        if rec.get("k") == "start":
            return rec
    return {}


def write_mcap(job: McapJob) -> dict[str, Any]:
    """One log into `job.out`; messages per topic and what could not be read."""
    writer_mod = _import_mcap()
    start = _first_start(job.log)
    offset_ns = start["wall_ns"] - start["t_ns"] if "wall_ns" in start else 0
    maker = MessageMaker(list(start.get("joints", [])), offset_ns)
    compression = writer_mod.CompressionType[job.compression.upper()]
    counts: Counter[str] = Counter()
    reader = LogReader(job.log)
    job.out.parent.mkdir(parents=True, exist_ok=True)
    with open(job.out, "wb") as stream:
        writer = writer_mod.Writer(stream, compression=compression)
        writer.start(profile="", library="edgerun")
        channels: dict[str, int] = {}
        schema_ids: dict[str, int] = {}
        for topic, (schema, encoding) in TOPICS.items():
            data = (
                file_descriptor_set(protobuf_class(schema))
                if encoding == "protobuf"
                else json_schema(schema)
            )
            schema_encoding = "protobuf" if encoding == "protobuf" else "jsonschema"
            schema_ids[topic] = writer.register_schema(schema, schema_encoding, data)
            channels[topic] = writer.register_channel(topic, encoding, schema_ids[topic])
        meta = {k: v if isinstance(v, str) else json.dumps(v) for k, v in start.items() if k != "k"}
        writer.add_metadata("edgerun.start", meta)
        for rec in reader:
            for topic, stamp_ns, payload in maker.messages(rec):
                if topic not in channels:  # another camera's: /camera/<name>/color, ...
                    base = camera_topic(topic, "")
                    encoding = TOPICS[base][1]
                    channels[topic] = writer.register_channel(topic, encoding, schema_ids[base])
                writer.add_message(channels[topic], stamp_ns, payload, stamp_ns)
                counts[topic] += 1
        writer.finish()
    return {
        "log": str(job.log),
        "out": str(job.out),
        "messages": dict(counts),
        "problems": reader.report.problems(),
    }


def export_mcap(
    logs: list[Path],
    out: Path,
    jobs: int | None = None,
    ray_address: str | None = None,
    compression: str = "lz4",
) -> dict[str, Any]:
    """One log -> `out` (a file); several -> `out/<log name>.mcap` each, in parallel."""
    began = time.perf_counter()
    if len(logs) == 1 and out.suffix == ".mcap":
        targets = [out]
    else:
        targets = [out / f"{Path(log).resolve().name}.mcap" for log in logs]
    if len({t.name for t in targets}) != len(targets):
        raise LogError("two logs have the same directory name; export them one at a time")
    for target in targets:
        check_new_output(target)
    work = [McapJob(Path(log), target, compression) for log, target in zip(logs, targets)]
    results = run_jobs(write_mcap, work, jobs, ray_address)
    seconds = time.perf_counter() - began
    frames = sum(r["messages"].get("/camera/color", 0) for r in results)
    return {
        "format": "mcap",
        "files": results,
        "seconds": round(seconds, 3),
        "frames_per_s": round(frames / seconds, 1) if seconds > 0 else 0.0,
    }
