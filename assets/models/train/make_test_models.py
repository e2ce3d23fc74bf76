#!/usr/bin/env python3
"""Writes the broken model files the engine's tests refuse (engine/tests/data/mood/bad/),
each derived from the shipped stress-lr.onnx:

    python3 assets/models/train/make_test_models.py

- missing_metadata.onnx: no isochord.* metadata at all
- wrong_width.onnx: the metadata lists 2 features, the graph takes 3
- wrong_classes.onnx: the metadata lists 3 classes, the graph gives 2
- wrong_unit.onnx: mean_hr declared in ms
- truncated.onnx: the first half of the file's bytes
- garbage.onnx: bytes that are not a protobuf
"""

from pathlib import Path

import onnx
from onnx import helper

ROOT = Path(__file__).resolve().parents[3]
SRC = ROOT / "assets" / "models" / "stress-lr.onnx"
OUT = ROOT / "engine" / "tests" / "data" / "mood" / "bad"


def variant(name, change):
    m = onnx.load(str(SRC))
    props = {p.key: p.value for p in m.metadata_props}
    props = change(props)
    del m.metadata_props[:]
    if props:
        helper.set_model_props(m, props)
    onnx.save(m, str(OUT / name))


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    variant("missing_metadata.onnx", lambda p: {})
    variant("wrong_width.onnx", lambda p: {
        **p, "isochord.features": "mean_hr,eda_tonic", "isochord.units": "/min,uS"})
    variant("wrong_classes.onnx", lambda p: {
        **p, "isochord.classes": "calm,neutral,stressed", "isochord.class_arousal": "0,0.5,1"})
    variant("wrong_unit.onnx", lambda p: {**p, "isochord.units": "ms,uS,/min"})
    data = SRC.read_bytes()
    (OUT / "truncated.onnx").write_bytes(data[: len(data) // 2])
    (OUT / "garbage.onnx").write_bytes(bytes((i * 7919 + 13) % 251 for i in range(1000)))
    print(f"wrote {len(list(OUT.iterdir()))} files to {OUT.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
