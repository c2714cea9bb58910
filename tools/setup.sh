#!/usr/bin/env bash
# Creates the virtualenv and installs edge-runtime with its extras.
#   VENV    where to put it (default .venv)
#   EXTRAS  pip extras (default all,dev; on a Jetson: camera,jetson,dev)
#   WHEELHOUSE (or --wheelhouse PATH)  install offline from `make wheelhouse`'s archive: its
#           checksums are verified first, then pip installs with --no-index (no network);
#           EXTRAS defaults to what the archive holds for this machine (see its manifest.json)
# Debian packages are installed only when running as root; otherwise we say
# which ones are missing and go on.
set -euo pipefail
WHEELHOUSE=${WHEELHOUSE:-}
if [ "${1:-}" = "--wheelhouse" ]; then WHEELHOUSE=${2:?"setup: --wheelhouse needs the archive's path"}; fi
VENV=${VENV:-.venv}
EXTRAS_GIVEN=${EXTRAS:-}
EXTRAS=${EXTRAS:-all,dev}
DEB_PACKAGES=(libusb-1.0-0 libosmesa6 libgl1)
# The test tools (dev) beside torch (export/all) include lerobot, to load exported datasets
# with the real library; its video decoder (torchcodec) needs FFmpeg's shared libraries.
LEROBOT=""
case ",$EXTRAS," in
  *,dev,*) case ",$EXTRAS," in *,export,*|*,all,*) LEROBOT=1 ;; esac ;;
esac
if [ -n "$WHEELHOUSE" ]; then LEROBOT=""; fi  # test tooling, not part of an offline release
if [ -n "$LEROBOT" ]; then DEB_PACKAGES+=(ffmpeg); fi
# The console's browser tests (dev) drive Debian's headless chromium through its chromedriver.
case ",$EXTRAS," in
  *,dev,*) if [ -z "$WHEELHOUSE" ]; then DEB_PACKAGES+=(chromium chromium-driver); fi ;;
esac

missing=()
for pkg in "${DEB_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if ((${#missing[@]})); then
  if [ -n "$WHEELHOUSE" ]; then
    echo "setup: missing Debian packages (offline: install them from your apt mirror): ${missing[*]}" >&2
  elif [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "setup: installing Debian packages: ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
      "${missing[@]}" >/dev/null
  else
    echo "setup: missing Debian packages (install them as root): ${missing[*]}" >&2
  fi
fi

PYTHON=${PYTHON:-}
if [ -z "$PYTHON" ]; then
  for candidate in python3.11 python3.10 python3; do
    if command -v "$candidate" >/dev/null; then PYTHON=$candidate; break; fi
  done
fi
"$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 10))' \
  || { echo "setup: $PYTHON is older than 3.10; install Python 3.10 or newer" >&2; exit 2; }

if [ -n "$WHEELHOUSE" ]; then
  # shellcheck source=tools/setup_wheelhouse.sh
  source "$(dirname "$0")/setup_wheelhouse.sh"
  wheelhouse_verify  # before anything is created: a tampered archive installs nothing
fi

if [ ! -x "$VENV/bin/python" ]; then
  venv_flags=()
  # On a Jetson, TensorRT's Python bindings come from apt: let the venv see them.
  if "$PYTHON" -c 'import tensorrt' 2>/dev/null; then venv_flags+=(--system-site-packages); fi
  "$PYTHON" -m venv "${venv_flags[@]}" "$VENV"
fi
if [ -n "$WHEELHOUSE" ]; then wheelhouse_install; exit 0; fi
PIP=("$VENV/bin/python" -m pip install --quiet --disable-pip-version-check)
"${PIP[@]}" --upgrade pip
case ",$EXTRAS," in
  *,export,*|*,all,*)
    # The CPU build of torch; a bare `torch` would pull a several-GB CUDA build.
    "$VENV/bin/python" -c 'import torch' 2>/dev/null || "${PIP[@]}" "torch==2.13.0" ;;
esac
"${PIP[@]}" -e ".[${EXTRAS}${LEROBOT:+,lerobot-reader}]"
if [ -n "$LEROBOT" ]; then
  # lerobot 0.4.4 pins torch<2.11 (pip would swap our CPU torch for a CUDA build); its dataset
  # reader works with torch 2.13, so it and the torchvision/torchcodec built for 2.13 go in
  # without dependencies (lerobot-reader lists what the reader needs).
  "${PIP[@]}" --no-deps lerobot==0.4.4 torchvision==0.28.0 torchcodec==0.13.0
fi
echo "setup: ready ($("$VENV/bin/python" --version), extras: $EXTRAS)"
