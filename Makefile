# Isochord: `make demo` renders a demo session; `make test` runs every check.
# Both install what a fresh Debian 12 machine lacks (as root, or with sudo).

SHELL := /bin/bash
APT_PACKAGES := build-essential pkg-config libasound2-dev libopus-dev pulseaudio pulseaudio-utils libasound2-plugins chromium fonts-dejavu-core python3-venv
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
ISOCHORD := target/release/isochord

.PHONY: setup demo test capi-test python-test python-wheel samples bench clean

setup:
	@command -v cargo >/dev/null || { echo "error: cargo not found: install Rust (https://rustup.rs) first"; exit 1; }
	@missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing; \
	fi

$(ISOCHORD): setup
	cargo build --release -p isochord-cli

DEMO_INPUT := assets/demo/stress-predict-S02

demo: setup
	cargo build --release -p isochord-cli
	@mkdir -p out
	$(ISOCHORD) render --preset piano --duration 40m --biometrics $(DEMO_INPUT) \
	  --out out/demo-piano.wav --log out/demo-piano.jsonl --report out/demo-report
	@echo "an adaptive piano session (sampled grand piano, recorded loops) steered by a real recording"
	@echo "(Stress-Predict S02: rest, Stroop test, rest, interview, rest, hyperventilation) is in"
	@echo "out/demo-piano.wav, every decision in"
	@echo "out/demo-piano.jsonl, and its report in out/demo-report/report.html."
	@echo "now playing the same session live at the recording's pace (Ctrl-C fades out and stops)"
	@$(ISOCHORD) play --preset piano --duration 40m --source e4:$(DEMO_INPUT) \
	  || echo "no audio device could be opened here: listen to out/demo-piano.wav instead"

test: setup
	cargo fmt --all -- --check
	cargo clippy --workspace --all-targets -- -D warnings
	# the library without cpal, for apps that own their audio callback
	cargo check -p isochord -p isochord-engine -p isochord-dsp -p isochord-capi --no-default-features
	# the biometrics crate builds alone, without OSC
	cargo check -p isochord-biometrics --no-default-features
	RUSTDOCFLAGS="-D warnings" cargo doc --workspace --no-deps
	cargo test --workspace
	$(MAKE) capi-test
	$(MAKE) python-test

# The C API: examples/c/render.c built against the shared and the static library (the
# crate alone, so without cpal: no ALSA), both run, their WAVs checked and compared.
CAPI_OUT := out/capi
CAPI_LIB := target/debug
CC ?= cc

capi-test: setup
	cargo build -p isochord-capi
	@mkdir -p $(CAPI_OUT)
	$(CC) -Wall -Wextra -Werror -O2 -Icapi/include examples/c/render.c \
	  -L$(CAPI_LIB) -lisochord_capi -Wl,-rpath,$(CURDIR)/$(CAPI_LIB) -o $(CAPI_OUT)/render-shared
	$(CC) -Wall -Wextra -Werror -O2 -Icapi/include examples/c/render.c \
	  -L$(CAPI_LIB) -Wl,-Bstatic -lisochord_capi -Wl,-Bdynamic -lm -lpthread -ldl \
	  -Wl,-z,noexecstack -o $(CAPI_OUT)/render-static
	$(CAPI_OUT)/render-shared $(CAPI_OUT)/shared.wav > $(CAPI_OUT)/shared.txt
	$(CAPI_OUT)/render-static $(CAPI_OUT)/static.wav > $(CAPI_OUT)/static.txt
	@grep -q '"kind":"host"' $(CAPI_OUT)/shared.txt || { echo "error: no host event in $(CAPI_OUT)/shared.txt"; exit 1; }
	@tail -n 2 $(CAPI_OUT)/shared.txt
	cargo run -p isochord-capi --example check_wav -- $(CAPI_OUT)/shared.wav $(CAPI_OUT)/static.wav

# The Python package (python/): a virtual environment with maturin, numpy, pandas, pytest
# and Dask from PyPI; the extension built into it in the dev profile (in the workspace's
# target/); then pytest (python/tests, about a minute).
PYENV := out/pyenv
PYTHON ?= python3
PY_PACKAGES := "maturin>=1.9,<2" numpy pandas pytest "dask[distributed]"

$(PYENV)/bin/python:
	$(PYTHON) -m venv $(PYENV)

python-test: setup $(PYENV)/bin/python
	$(PYENV)/bin/python -m pip install -q --disable-pip-version-check $(PY_PACKAGES)
	# the CLI the tests compare with, built as `cargo test --workspace` builds it (free after it)
	cargo test --workspace --no-run
	cd python && VIRTUAL_ENV=$(CURDIR)/$(PYENV) PATH=$(CURDIR)/$(PYENV)/bin:$$PATH maturin develop -q
	ISOCHORD_CLI=$(CURDIR)/target/debug/isochord $(PYENV)/bin/python -m pytest -q python/tests

# An abi3 wheel (CPython 3.9 and later) of the Python package in out/wheels/.
python-wheel: setup $(PYENV)/bin/python
	$(PYENV)/bin/python -m pip install -q --disable-pip-version-check "maturin>=1.9,<2"
	cd python && $(CURDIR)/$(PYENV)/bin/maturin build --release -o $(CURDIR)/out/wheels

bench: setup
	cargo bench --bench reference_patch
	cargo bench --bench presets

# docs/samples/: a 30-second Ogg Opus sample of every built-in preset, decoded and checked
samples: setup
	scripts/samples.sh

clean:
	cargo clean
	rm -rf out
