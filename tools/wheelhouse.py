#!/usr/bin/env python3
"""`make wheelhouse`: build or verify the offline-install archive (edge_runtime.wheelhouse).

    python tools/wheelhouse.py build [--out out/wheelhouse] [--device-wheels DIR]
                                     [--extras PLATFORM=EXTRA,EXTRA ...]
    python tools/wheelhouse.py verify out/wheelhouse/edge-runtime-wheelhouse-VERSION.tar

Parsing and printing only; the library does the work and raises one-sentence errors.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from edge_runtime.errors import EdgeRuntimeError
from edge_runtime.wheelhouse.build import build_wheelhouse
from edge_runtime.wheelhouse.offline import verify_archive

SOURCE_DIR = Path(__file__).resolve().parent.parent


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="tools/wheelhouse.py", description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    build = commands.add_parser("build", help="download every wheel and write the archive")
    build.add_argument("--out", type=Path, default=SOURCE_DIR / "out" / "wheelhouse")
    build.add_argument("--device-wheels", type=Path, help="wheels built on a Jetson (pycuda, ...)")
    build.add_argument(
        "--extras",
        action="append",
        default=[],
        metavar="PLATFORM=EXTRAS",
        help="override a platform's extras, e.g. jetson-aarch64-cp310=camera (empty: core only)",
    )
    verify = commands.add_parser("verify", help="checksums, closure and offline resolution")
    verify.add_argument("archive", type=Path)
    args = parser.parse_args(argv)
    try:
        if args.command == "verify":
            verified = verify_archive(args.archive)
            for name, packages in verified.resolved.items():
                print(f"{name}: {len(packages)} packages resolve without an index")
            print(f"{args.archive}: {verified.files_checked} files match SHA256SUMS")
            return 0
        extras = {}
        for item in args.extras:
            name, _, listed = item.partition("=")
            extras[name] = tuple(extra for extra in listed.split(",") if extra)
        built = build_wheelhouse(
            SOURCE_DIR, args.out, device_wheels=args.device_wheels, extras=extras
        )
    except EdgeRuntimeError as exc:
        print(f"wheelhouse: {exc}", file=sys.stderr)
        return exc.exit_code
    print(f"wheelhouse: {built.archive} ({built.archive_bytes / 1e6:.0f} MB)")
    print(f"wheelhouse: sha256 {built.archive_sha256}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
