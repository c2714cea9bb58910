"""Which depth/color framesets to keep: pairing by frame number and timestamp. Pure logic.

Playback through pyrealsense2 emits about 1.33 framesets per recorded pair: some pair a new
depth with the previous color, and frame 0 is sometimes missing. A live camera's syncer can
also hand out a depth with a stale color. A frameset is kept when both frames are new (their
numbers are past the last kept pair) and they belong together: equal frame numbers (recordings
made by one clock) or device timestamps within half a frame period (a D4xx numbers depth and
color independently). Every decision is counted, so `camera check` can say what it filtered.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class PairFilter:
    period_ms: float
    last_depth: int = -1
    last_color: int = -1
    paired: int = 0
    mismatched: int = 0  # both new but not taken at the same instant
    repeated: int = 0  # one of the two frames was already used
    incomplete: int = 0  # depth or color missing from the frameset
    dropped: int = 0  # gaps in the color frame numbers (frames the camera never delivered)

    def accept(
        self,
        depth_number: int | None,
        color_number: int | None,
        depth_ms: float = 0.0,
        color_ms: float = 0.0,
    ) -> bool:
        if depth_number is None or color_number is None:
            self.incomplete += 1
            return False
        if depth_number <= self.last_depth or color_number <= self.last_color:
            self.repeated += 1
            return False
        same_instant = abs(depth_ms - color_ms) <= self.period_ms / 2
        if depth_number != color_number and not same_instant:
            self.mismatched += 1
            return False
        if self.last_color >= 0 and color_number > self.last_color + 1:
            self.dropped += color_number - self.last_color - 1
        self.last_depth, self.last_color = depth_number, color_number
        self.paired += 1
        return True

    def reset(self) -> None:
        """Forget the last numbers (after a reconnect the camera counts from zero again)."""
        self.last_depth = self.last_color = -1

    def counters(self) -> dict[str, int]:
        return {
            "paired": self.paired,
            "mismatched": self.mismatched,
            "repeated": self.repeated,
            "incomplete": self.incomplete,
            "dropped": self.dropped,
        }
