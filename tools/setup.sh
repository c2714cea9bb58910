#!/usr/bin/env bash
# Creates the virtualenv and installs edge-runtime with its extras.
#   VENV    where to put it (default .venv)
#   EXTRAS  pip extras (default all,dev; on a Jetson: camera,jetson,dev)
# Debian packages are installed only when running as root; otherwise we say
# which ones are missing and go on.
set -euo pipefail
VENV=${VENV:-.venv}
EXTRAS=${EXTRAS:-all,dev}
DEB_PACKAGES=(libusb-1.0-0 libosmesa6 libgl1)

missing=()
for pkg in "${DEB_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if ((${#missing[@]})); then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "setup: installing Debian packages: ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
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

if [ ! -x "$VENV/bin/python" ]; then
  venv_flags=()
  # On a Jetson, TensorRT's Python bindings come from apt: let the venv see them.
  if "$PYTHON" -c 'import tensorrt' 2>/dev/null; then venv_flags+=(--system-site-packages); fi
  "$PYTHON" -m venv "${venv_flags[@]}" "$VENV"
fi
PIP=("$VENV/bin/python" -m pip install --quiet --disable-pip-version-check)
"${PIP[@]}" --upgrade pip
case ",$EXTRAS," in
  *,export,*|*,all,*)
    # The CPU build of torch; a bare `torch` would pull a several-GB CUDA build.
    "$VENV/bin/python" -c 'import torch' 2>/dev/null || "${PIP[@]}" "torch==2.13.0" ;;
esac
"${PIP[@]}" -e ".[${EXTRAS}]"
echo "setup: ready ($("$VENV/bin/python" --version), extras: $EXTRAS)"
