"""Faults of the runtime's surroundings: a full disk under the recording, a wall-clock step.

Disk full. As root, the run records onto a tmpfs of its own (`mount -t tmpfs`), and the
campaign fills it at the chosen moment: the recorder gets a real ENOSPC. Otherwise the
recorder's writer process gets `RLIMIT_FSIZE` set to its segment's current size (prlimit):
its next write fails with EFBIG (Python ignores SIGXFSZ). `DiskFull.method` says which.

Wall-clock step. CLOCK_REALTIME is not namespaced (a time namespace shifts only the monotonic
and boot clocks), and stepping the machine's clock would hit every process on it. So the
runtime under test, and only it (its children inherit the environment), runs with a small
`LD_PRELOAD` library that adds an offset, read from a file the campaign writes, to every
CLOCK_REALTIME read (`clock_gettime`, `gettimeofday`, `time`): from its point of view the
wall clock jumps, while everything it waits on in the kernel keeps real time, which is what a
process sees when NTP steps the clock under it. The library is compiled here with the
system's C compiler (libfaketime does the same; the project depends on nothing outside the
repository).
"""

from __future__ import annotations

import contextlib
import mmap
import os
import resource
import shutil
import struct
import subprocess
from pathlib import Path

from edge_runtime.bench.process_tree import find_child

TMPFS_MB = 64
FILL_CHUNK = b"\0" * (1 << 20)
OFFSET_ENV = "EDGERUN_WALL_OFFSET_FILE"

SHIM_SOURCE = r"""
#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static volatile const int64_t *offset_ns;
static int (*real_clock_gettime)(clockid_t, struct timespec *);

__attribute__((constructor)) static void setup(void) {
    real_clock_gettime = dlsym(RTLD_NEXT, "clock_gettime");
    const char *path = getenv("EDGERUN_WALL_OFFSET_FILE");
    int fd = path ? open(path, O_RDONLY) : -1;
    if (fd < 0) return;
    void *map = mmap(NULL, 8, PROT_READ, MAP_SHARED, fd, 0);
    close(fd);
    if (map != MAP_FAILED) offset_ns = map;
}

static void shift(struct timespec *ts) {
    int64_t total = (int64_t)ts->tv_sec * 1000000000 + ts->tv_nsec + (offset_ns ? *offset_ns : 0);
    ts->tv_sec = total / 1000000000;
    ts->tv_nsec = total % 1000000000;
}

int clock_gettime(clockid_t id, struct timespec *ts) {
    int r = real_clock_gettime(id, ts);
    if (r == 0 && (id == CLOCK_REALTIME || id == CLOCK_REALTIME_COARSE)) shift(ts);
    return r;
}

int gettimeofday(struct timeval *tv, void *tz) {
    struct timespec ts;
    (void)tz;
    if (clock_gettime(CLOCK_REALTIME, &ts) != 0) return -1;
    tv->tv_sec = ts.tv_sec;
    tv->tv_usec = ts.tv_nsec / 1000;
    return 0;
}

time_t time(time_t *out) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    if (out) *out = ts.tv_sec;
    return ts.tv_sec;
}
"""


class WallClock:
    """The offset the runtime under test sees on its wall clock (see the module docstring)."""

    def __init__(self, directory: Path) -> None:
        compiler = shutil.which("cc") or shutil.which("gcc")
        if compiler is None:
            raise OSError("no C compiler (cc) to build the wall-clock library")
        directory.mkdir(parents=True, exist_ok=True)
        source, self.library = directory / "wallclock.c", directory / "wallclock.so"
        source.write_text(SHIM_SOURCE)
        subprocess.run(
            [compiler, "-shared", "-fPIC", "-O2", "-o", str(self.library), str(source), "-ldl"],
            check=True,
            capture_output=True,
        )
        self.offset_file = directory / "wall-offset"
        self.offset_file.write_bytes(bytes(8))
        with open(self.offset_file, "r+b") as f:
            self._map = mmap.mmap(f.fileno(), 8)

    def env(self) -> dict[str, str]:
        """What the runtime under test's environment gets."""
        return {"LD_PRELOAD": str(self.library), OFFSET_ENV: str(self.offset_file)}

    def step(self, offset_s: float) -> None:
        """From now on the runtime's wall clock reads real time + `offset_s`."""
        self._map[:8] = struct.pack("<q", round(offset_s * 1e9))

    def close(self) -> None:
        self._map.close()


class DiskFull:
    """Where a run records, and how the campaign fills that disk (see the module docstring)."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        directory.mkdir(parents=True, exist_ok=True)
        self.method = "RLIMIT_FSIZE on the recorder's writer process"
        self._mounted = False
        if os.geteuid() == 0 and shutil.which("mount"):
            size = f"size={TMPFS_MB}m"
            mount = ["mount", "-t", "tmpfs", "-o", size, "edgerun-faults", str(directory)]
            if subprocess.run(mount, capture_output=True).returncode == 0:
                self._mounted = True
                self.method = f"a {TMPFS_MB} MiB tmpfs filled up (ENOSPC)"

    def fill(self, runtime_pid: int, record_dir: Path) -> None:
        """The disk is full from now on, for the recorder of `runtime_pid`."""
        if self._mounted:
            path = self.directory / "filler"
            with open(path, "wb", buffering=0) as filler, contextlib.suppress(OSError):
                while True:  # until ENOSPC
                    filler.write(FILL_CHUNK)
            return
        writer = find_child(runtime_pid, "edge_runtime.recording.child_writer")
        if writer is None:
            raise OSError("the recorder's writer process is not running")
        size = max((p.stat().st_size for p in record_dir.glob("*.erlog")), default=0)
        resource.prlimit(writer, resource.RLIMIT_FSIZE, (size, size))

    def clear(self) -> None:
        with contextlib.suppress(FileNotFoundError):
            (self.directory / "filler").unlink()

    def close(self) -> None:
        if self._mounted:
            subprocess.run(["umount", str(self.directory)], capture_output=True)
            self._mounted = False
