# Isochord: `make demo` renders a demo session; `make test` runs every check.
# Both install what a fresh Debian 12 machine lacks (as root, or with sudo).

SHELL := /bin/bash
APT_PACKAGES := build-essential pkg-config libasound2-dev pulseaudio pulseaudio-utils libasound2-plugins
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
ISOCHORD := target/release/isochord

.PHONY: setup demo test bench clean

setup:
	@command -v cargo >/dev/null || { echo "error: cargo not found: install Rust (https://rustup.rs) first"; exit 1; }
	@missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing; \
	fi

$(ISOCHORD): setup
	cargo build --release -p isochord-cli

demo: setup
	cargo build --release -p isochord-cli
	@mkdir -p out
	$(ISOCHORD) render --preset relax --duration 5m --automation assets/demo/relax-arc.csv --out out/demo-relax.wav
	@echo "demo session written to out/demo-relax.wav; now playing it live (Ctrl-C fades out and stops)"
	@$(ISOCHORD) play --preset relax --duration 5m --automation assets/demo/relax-arc.csv \
	  || echo "no audio device could be opened here: listen to out/demo-relax.wav instead"

test: setup
	cargo fmt --all -- --check
	cargo clippy --workspace --all-targets -- -D warnings
	cargo test --workspace

bench: setup
	cargo bench --bench reference_patch
	cargo bench --bench presets

clean:
	cargo clean
	rm -rf out
