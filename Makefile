# Two commands do all the set-up: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
STAMP := $(VENV)/.installed
STAMP_DEV := $(VENV)/.installed-dev
TORCH_VERSION ?= 2.13.0

.PHONY: run test test-unit lint bench gpu-check setup setup-dev browser calibrate clean

run: setup
	$(PY) app.py

test: lint browser
	$(PY) -m pytest -q tests

# The fast layer while you work: pure maths and data handling, no models (seconds).
test-unit: setup-dev
	$(PY) -m pytest -q -m unit

# Lint, format, types and the import contract (pyproject.toml holds their settings).
lint: setup-dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports

bench: setup
	$(PY) -m bench

# First command on a CUDA machine: full-size SDXL-Turbo at random weights in fp16 through both
# passes, one mixed-precision step of each trainer, timings and peak memory; nothing downloaded.
# ONLINE=1 also downloads the real weights and ages a shipped portrait to 10, 40 and 70.
gpu-check: setup
	$(PY) -m bench.gpu_check

setup: $(STAMP)

setup-dev: $(STAMP_DEV)

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip

# Torch first, pinned, so the range in requirements.txt is already met. On a
# machine without CUDA set TORCH_INDEX=https://download.pytorch.org/whl/cpu for
# the small CPU build (machines with a local wheel of it find it without).
$(STAMP): requirements.txt $(VENV)/bin/python
	@if $(PY) -c "import torch" 2>/dev/null; then echo "torch already installed"; \
	else $(PIP) install -q "torch==$(TORCH_VERSION)" $${TORCH_INDEX:+--extra-index-url $$TORCH_INDEX}; fi
	$(PIP) install -q -r requirements.txt
	$(PIP) install -q --no-deps mediapipe==0.10.21
	touch $(STAMP)

$(STAMP_DEV): requirements-dev.txt $(STAMP)
	$(PIP) install -q -r requirements-dev.txt
	touch $(STAMP_DEV)

# Headless Chromium from Debian for the browser tests (playwright drives it;
# playwright never downloads a browser of its own here).
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq chromium >/dev/null; }

calibrate: setup
	$(PY) -m engine calibrate --data $(DATA)

clean:
	rm -rf $(VENV) .pytest_cache
