# Offline install for tools/setup.sh (sourced; WHEELHOUSE=archive.tar or an unpacked copy).
# Needs no network and nothing of edge-runtime yet: sha256sum checks every file against the
# archive's SHA256SUMS (and refuses files it does not list), then pip installs with --no-index
# from the directory for this machine, with pip's configuration files and PIP_* variables cut
# off so nothing but the archive can be used. Uses PYTHON, VENV, EXTRAS_GIVEN from setup.sh.

wheelhouse_fail() {  # one sentence, exit 2 (refused: fix and retry), as the project's CLI does
  echo "setup: $*" >&2
  exit 2
}

wheelhouse_verify() {
  [ -e "$WHEELHOUSE" ] || wheelhouse_fail "the wheelhouse $WHEELHOUSE does not exist; give the path of edge-runtime-wheelhouse-VERSION.tar."
  if [ -d "$WHEELHOUSE" ]; then
    WHEELHOUSE_ROOT=$WHEELHOUSE
  else
    WHEELHOUSE_SCRATCH=$(mktemp -d)
    trap 'rm -rf "$WHEELHOUSE_SCRATCH"' EXIT
    tar -xf "$WHEELHOUSE" -C "$WHEELHOUSE_SCRATCH" --no-same-owner \
      || wheelhouse_fail "$WHEELHOUSE is not a readable tar archive; copy it again from the release."
    WHEELHOUSE_ROOT=$(find "$WHEELHOUSE_SCRATCH" -mindepth 1 -maxdepth 1 -type d | head -n 1)
  fi
  [ -f "$WHEELHOUSE_ROOT/SHA256SUMS" ] \
    || wheelhouse_fail "$WHEELHOUSE has no SHA256SUMS; rebuild it with \`make wheelhouse\`."
  local unlisted failed
  unlisted=$(cd "$WHEELHOUSE_ROOT" && comm -23 \
    <(find . -type f ! -name SHA256SUMS | sed 's|^\./||' | LC_ALL=C sort) \
    <(awk '{print $2}' SHA256SUMS | LC_ALL=C sort) | head -n 1)
  [ -z "$unlisted" ] \
    || wheelhouse_fail "$unlisted in $WHEELHOUSE is not listed in SHA256SUMS (added after the build); do not install it, copy the archive again from the release."
  failed=$(cd "$WHEELHOUSE_ROOT" && sha256sum --strict -c SHA256SUMS 2>/dev/null | grep -v ': OK$' | head -n 1 || true)
  [ -z "$failed" ] \
    || wheelhouse_fail "${failed%%:*} in $WHEELHOUSE does not match SHA256SUMS (altered or damaged in transit); do not install it, copy the archive again from the release."

  local machine python_tag
  machine=$(uname -m)
  python_tag=$("$PYTHON" -c 'import sys; print(f"cp{sys.version_info[0]}{sys.version_info[1]}")')
  WHEELHOUSE_DIR=$(find "$WHEELHOUSE_ROOT" -mindepth 1 -maxdepth 1 -type d -name "*-$machine-$python_tag" | head -n 1)
  [ -n "$WHEELHOUSE_DIR" ] || wheelhouse_fail "$WHEELHOUSE has no wheels for $machine $python_tag (it holds: $(cd "$WHEELHOUSE_ROOT" && ls -d -- */ | tr -d / | tr '\n' ' ')); run setup with the matching Python (PYTHON=python3.X)."
  echo "setup: $WHEELHOUSE verified ($(wc -l <"$WHEELHOUSE_ROOT/SHA256SUMS") files); installing $(basename "$WHEELHOUSE_DIR") offline"
}

wheelhouse_install() {
  local extras requirement
  extras=${EXTRAS_GIVEN:-$("$PYTHON" -c 'import json, sys
entry = json.load(open(sys.argv[1]))["platforms"][sys.argv[2]]
print(",".join(entry["extras"]))' "$WHEELHOUSE_ROOT/manifest.json" "$(basename "$WHEELHOUSE_DIR")")}
  requirement="edge-runtime${extras:+[$extras]}"
  PIP_CONFIG_FILE=/dev/null "$VENV/bin/python" -m pip --isolated install --quiet --no-index \
    --disable-pip-version-check --find-links "$WHEELHOUSE_DIR" "$requirement" \
    || wheelhouse_fail "$WHEELHOUSE cannot install $requirement without network (pip said why above); leave EXTRAS unset to install what the archive holds, or rebuild it with \`make wheelhouse\`."
  "$VENV/bin/edgerun" --help >/dev/null \
    || wheelhouse_fail "edgerun does not start after the offline install into $VENV; see the error above."
  echo "setup: ready ($("$VENV/bin/python" --version), offline from $WHEELHOUSE, $requirement)"
}
