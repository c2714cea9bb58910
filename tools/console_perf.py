"""The console's cost to the robot: `bench loop` lateness with and without a browser watching.

Why this shape: the console must not slow the control loop, and must stay cheap itself. So
one session runs `edgerun bench loop` (the control loop under inference load, SCHED_FIFO in
its own process) several times, alternating *without* and *with* headless chromium open on
the console's Robot page (polling /api/robot and the camera at 5 Hz), and compares the
edgerun loop's lateness side by side. Throughout, a `LiveStatus` publisher is fed 100 Hz ticks
and 30 Hz 640x480 frames in this process, as a run publishes them; with a browser open it also
writes camera previews (someone looks). The console is `edgerun console` in its own process;
its CPU time (utime + stime from /proc) over each "with" window gives its share of one core.

    nice -n 10 python tools/console_perf.py --rounds 2 --ticks 1500 --out out/console-perf

writes console-perf.json and prints the table of docs/perf/console.md.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np

from edge_runtime.field.live import LiveStatus
from edge_runtime.pipeline.observer import TickRecord
from edge_runtime.sensors.base import Frame, Intrinsics

CLK_TCK = os.sysconf("SC_CLK_TCK")
JOINTS = ["base_yaw", "shoulder_pitch", "elbow_pitch", "wrist_pitch"]


def cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK  # utime + stime


def publish(live: LiveStatus, stop: threading.Event) -> None:
    """A run's publishing, without a robot: 100 Hz ticks, 30 Hz frames."""
    live.on_start(JOINTS, 0.01)
    color = np.random.default_rng(0).integers(0, 255, (480, 640, 3), dtype=np.uint8)
    intrinsics = Intrinsics(640, 480, 600.0, 600.0, 320.0, 240.0)
    tick = 0
    while not stop.wait(0.01):
        angles = np.sin(np.full(4, tick / 100.0))
        live.on_tick(TickRecord(tick, 0, 0, 50_000, 0, angles, angles, angles, angles, angles,
                                "run", 100))  # fmt: skip
        if tick % 3 == 0:
            depth = np.zeros((480, 640), np.uint16)
            live.on_frame(Frame(np.roll(color, tick, 1), depth, 0.001, intrinsics, 0.0, 0, tick))
        tick += 1


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def browser(url: str) -> Any:
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    options = Options()
    options.binary_location = shutil.which("chromium") or ""
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu"):
        options.add_argument(flag)
    driver = webdriver.Chrome(options=options, service=Service(shutil.which("chromedriver")))
    driver.get(url)
    return driver


class Poller:
    """What a browser on the engineer's laptop asks of the robot, at 5 Hz: the status, and the
    camera whenever a new frame was published (as console.js does). The browser itself runs on
    the laptop, so `--client http` measures exactly what the robot serves."""

    def __init__(self, url: str, camera: bool = True) -> None:
        self.url, self.stop, self.polls, self.camera = url, threading.Event(), 0, camera
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        import urllib.error
        import urllib.request

        last_frame = -1
        while not self.stop.wait(0.2):
            with urllib.request.urlopen(self.url + "/api/robot", timeout=5) as response:
                cameras = json.loads(response.read())["live"].get("cameras", [])
            self.polls += 1
            for camera in cameras if self.camera else []:
                if camera["frame"] != last_frame:
                    last_frame = camera["frame"]
                    # 404 until the publisher has seen a watcher and written a preview
                    with (
                        contextlib.suppress(urllib.error.HTTPError),
                        urllib.request.urlopen(f"{self.url}/camera/camera.jpg", timeout=5) as image,
                    ):
                        image.read()

    def quit(self) -> None:
        self.stop.set()
        self.thread.join()


def bench_loop(ticks: int, json_path: Path) -> dict[str, Any]:
    command = [
        sys.executable,
        "-m",
        "edge_runtime.cli.main",
        "bench",
        "loop",
        "--rate",
        "100",
        "--ticks",
        str(ticks),
        "--isolation",
        "process",
        "--json",
        str(json_path),
    ]
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    runs = json.loads(json_path.read_text())["runs"]
    loop = next(r for r in runs if r["loop"] == "edgerun" and r["load"] == "full")
    return {"lateness_us": loop["lateness_us"], "missed": loop["missed"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--ticks", type=int, default=1500)
    parser.add_argument("--out", default="out/console-perf")
    parser.add_argument(
        "--client",
        choices=("http", "http-status", "chromium"),
        default="http",
        help="who watches: 5 Hz HTTP polls (the robot's side only; -status: no camera), or "
        "headless chromium on this machine",
    )
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    state = Path(tempfile.mkdtemp(prefix="console-perf-"))
    env = {**os.environ, "EDGE_RUNTIME_STATE_DIR": str(state)}
    port = free_port()
    console = subprocess.Popen(
        [sys.executable, "-m", "edge_runtime.cli.main", "console", "--bind", f"127.0.0.1:{port}"],
        env=env,
        stdout=subprocess.DEVNULL,
    )
    stop = threading.Event()
    rows: list[dict[str, Any]] = []
    try:
        with LiveStatus(state, "perf", "bundle") as live:
            threading.Thread(target=publish, args=(live, stop), daemon=True).start()
            time.sleep(3.0)  # the console is listening
            for round_index in range(args.rounds):
                for watched in (False, True):
                    url = f"http://127.0.0.1:{port}"
                    driver: Any = None
                    if watched:
                        if args.client == "chromium":
                            driver = browser(url + "/")
                        else:
                            driver = Poller(url, camera=args.client == "http")
                    cpu0, wall0 = cpu_s(console.pid), time.monotonic()
                    result = bench_loop(args.ticks, out / f"loop-{round_index}-{watched}.json")
                    cpu1, wall1 = cpu_s(console.pid), time.monotonic()
                    if driver is not None:
                        driver.quit()
                    window_s = wall1 - wall0
                    row = {
                        "round": round_index,
                        "console_open": watched,
                        "client": args.client,
                        **result,
                        "console_cpu_percent": round(100 * (cpu1 - cpu0) / window_s, 2),
                        "window_s": round(window_s),
                        "polls_per_s": round(getattr(driver, "polls", 0) / window_s, 2),
                    }
                    rows.append(row)
                    print(json.dumps(row), flush=True)
    finally:
        stop.set()
        console.terminate()
        console.wait(timeout=10)
        shutil.rmtree(state, ignore_errors=True)
    uptime = Path("/proc/loadavg").read_text().split()[:3]
    report = {"rows": rows, "loadavg": uptime, "cpus": os.cpu_count()}
    (out / "console-perf.json").write_text(json.dumps(report, indent=2) + "\n")
    print(f"loadavg {' '.join(uptime)}; wrote {out / 'console-perf.json'}")


if __name__ == "__main__":
    main()
