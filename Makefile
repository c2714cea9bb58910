# Two commands set everything up on a fresh machine: `make demo` and `make test`.
# Both create .venv, install Debian packages when run as root, and the pip extras.
VENV ?= .venv
EXTRAS ?= all,dev
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(subst $(comma),-,$(EXTRAS))
comma := ,

# MuJoCo renders on the CPU through OSMesa (no display, no GPU needed).
export MUJOCO_GL ?= osmesa
export PYOPENGL_PLATFORM ?= osmesa

.PHONY: demo test lint install reference-models bench clean fuzz wheelhouse

$(STAMP): pyproject.toml tools/setup.sh
	VENV=$(VENV) EXTRAS=$(EXTRAS) bash tools/setup.sh
	@touch $@

install: $(STAMP)

# The demo exports the committed reference models to a bundle signed with a local demo key
# (again only when the checkpoint or its monitor calibration changed), then runs it on the
# simulated arm with the world model's surprise monitor on; the robot trusts exactly that key.
DEMO := out/demo
DEMO_BUNDLE := $(DEMO)/reference-bundle/manifest.json
CHECKPOINTS := export/reference/checkpoints
$(DEMO_BUNDLE): $(STAMP) $(CHECKPOINTS)/reference.pt $(CHECKPOINTS)/monitor.json
	@mkdir -p $(DEMO)
	@test -f $(DEMO)/demo-key.key || $(VENV)/bin/edgerun keys generate $(DEMO)/demo-key
	$(VENV)/bin/edgerun export reference --out $(DEMO)/reference-bundle --sign-key $(DEMO)/demo-key.key

demo: $(DEMO_BUNDLE)
	$(VENV)/bin/edgerun demo --bundle $(DEMO)/reference-bundle --trusted-key $(DEMO)/demo-key.pub --out $(DEMO)

test: $(STAMP)
	$(PY) -m ruff check .
	$(PY) -m pytest

lint: $(STAMP)
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

reference-models: $(STAMP)
	$(VENV)/bin/edgerun export reference --train

bench: $(STAMP)
	$(VENV)/bin/edgerun bench loop --json out/bench-loop.json --plot out/bench-loop.png
	$(VENV)/bin/edgerun bench motors --json out/bench-motors.json
	$(VENV)/bin/edgerun bench calibration --json out/bench-calibration.json

clean:
	rm -rf $(VENV) out .pytest_cache .ruff_cache

# Coverage-guided fuzzing (atheris) of every parser that reads outside bytes: each target
# until FUZZ_RUNS executions or FUZZ_SECONDS, whichever comes first; seeds in fuzz/corpus/,
# results in out/fuzz/campaign.json, a crashing input in out/fuzz/NAME-crash-*. Exit 1 on any
# crash. `make fuzz FUZZ_TARGETS=episode_log FUZZ_SECONDS=60` for one quick target.
FUZZ_SECONDS ?= 1200
FUZZ_RUNS ?= 1000000
FUZZ_TARGETS ?=
fuzz:
	$(MAKE) install EXTRAS=all,dev,fuzz
	$(PY) fuzz/campaign.py --seconds $(FUZZ_SECONDS) --runs $(FUZZ_RUNS) $(FUZZ_TARGETS)

# Offline install (docs/fleet.md): every wheel the Jetson (aarch64, CPython 3.10) and the x86-64
# workstation (CPython 3.11) need, in out/wheelhouse/edge-runtime-wheelhouse-VERSION.tar with
# SHA256SUMS and a manifest; written only once both resolve without an index. Install with
# `WHEELHOUSE=out/wheelhouse/....tar tools/setup.sh`. DEVICE_WHEELS=DIR adds wheels built on a
# Jetson (pycuda, pyrealsense2: PyPI has none for it; without them their extras are left out).
DEVICE_WHEELS ?=
wheelhouse: $(STAMP)
	PYTHONPATH=$(CURDIR) $(PY) tools/wheelhouse.py build --out out/wheelhouse \
	  $(if $(DEVICE_WHEELS),--device-wheels $(DEVICE_WHEELS))
