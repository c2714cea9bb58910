"""The flight recorder: crash-safe episode logs (msgpack records, CRC32, segments) and replay.

`EpisodeRecorder` is the `LoopObserver` the runtime attaches for ``run --record DIR``;
`LogReader` reads every intact record back and reports a damaged tail. docs/recording.md is
the format specification.
"""

from edge_runtime.recording.format import FORMAT_VERSION, LogError
from edge_runtime.recording.reader import LogReader, ReadReport
from edge_runtime.recording.recorder import EpisodeRecorder

__all__ = ["FORMAT_VERSION", "EpisodeRecorder", "LogError", "LogReader", "ReadReport"]
