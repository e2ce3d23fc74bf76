"""Shared helpers: the repository's paths, the CLI binary, a float-WAV reader."""

from __future__ import annotations

import os
import struct
import subprocess
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]
E4_EXCERPT = ROOT / "tests" / "data" / "e4_excerpt"
S02 = ROOT / "assets" / "demo" / "stress-predict-S02"
RELAX_ARC = ROOT / "assets" / "demo" / "relax-arc.csv"


def cli_path() -> Path:
    """The `isochord` binary to compare with: $ISOCHORD_CLI, else the workspace's
    debug build (`cargo build -p isochord-cli`; `make python-test` builds it)."""
    p = Path(os.environ.get("ISOCHORD_CLI", ROOT / "target" / "debug" / "isochord"))
    if not p.is_file():
        pytest.fail(f"{p}: no isochord binary: run `cargo build -p isochord-cli` or set ISOCHORD_CLI")
    return p


def run_cli(*args: str) -> subprocess.CompletedProcess:
    r = subprocess.run([str(cli_path()), *args], capture_output=True, text=True)
    assert r.returncode == 0, f"isochord {' '.join(args)} failed: {r.stderr}"
    return r


def read_float_wav(path: Path) -> np.ndarray:
    """A 32-bit float WAV as a (frames, channels) float32 array."""
    data = path.read_bytes()
    assert data[:4] == b"RIFF" and data[8:12] == b"WAVE", f"{path}: not a WAV file"
    pos = 12
    channels = None
    samples = None
    while pos + 8 <= len(data):
        cid, size = data[pos : pos + 4], struct.unpack("<I", data[pos + 4 : pos + 8])[0]
        body = data[pos + 8 : pos + 8 + size]
        if cid == b"fmt ":
            tag, channels = struct.unpack("<HH", body[:4])
            bits = struct.unpack("<H", body[14:16])[0]
            if tag == 0xFFFE:
                tag = struct.unpack("<H", body[24:26])[0]
            assert tag == 3 and bits == 32, f"{path}: not 32-bit float (tag {tag}, {bits} bits)"
        elif cid == b"data":
            samples = np.frombuffer(body, dtype="<f4")
        pos += 8 + size + (size & 1)
    assert channels and samples is not None, f"{path}: no fmt or data chunk"
    return samples.reshape(-1, channels)
