"""isochord.features against `isochord features`, and the log and timeline readers."""

from __future__ import annotations

import io
import json

import numpy as np
import pandas as pd
import pytest

import isochord
from conftest import E4_EXCERPT, run_cli


def test_features_match_cli_on_a_recording():
    cli = pd.read_csv(io.StringIO(run_cli("features", "--input", str(E4_EXCERPT),
                                          "--window", "30", "--hop", "5", "--quiet").stdout))
    df = isochord.features(path=E4_EXCERPT, window=30, hop=5)
    assert list(df.columns) == list(cli.columns)
    assert len(df) == len(cli) > 10
    for c in cli.columns:
        a, b = df[c].to_numpy(float), cli[c].to_numpy(float)
        assert np.array_equal(np.isnan(a), np.isnan(b)), c
        # the CLI prints 3 (times), 4 (quality) or 6 decimals
        assert np.allclose(a[~np.isnan(a)], b[~np.isnan(b)], rtol=0, atol=6e-4), c
    assert df["mean_hr"].notna().any() and df["eda_tonic"].notna().any()


def test_features_from_arrays():
    rng = np.random.default_rng(1)
    rr = 800 + rng.normal(0, 30, 400)  # ~320 s at ~75 bpm, some variability
    eda = 3.0 + 0.1 * np.sin(np.arange(4 * 320) / 40.0)
    df = isochord.features(rr_ms=rr, eda=eda, fs=4.0)
    assert len(df) > 40
    full = df[df["beats"] > 60]
    assert np.allclose(full["mean_hr"], 75, atol=2)
    assert full["rmssd"].between(20, 80).all()
    assert np.allclose(df["eda_tonic"].dropna(), 3.0, atol=0.15)
    # relative features once the 5-minute baseline is known
    assert df["rel_mean_hr"].notna().any()
    with pytest.raises(isochord.IsochordError, match="fs"):
        isochord.features(eda=eda)
    with pytest.raises(isochord.IsochordError, match=r"rr_ms\[3\]"):
        isochord.features(rr_ms=[800, 800, 800, -5])
    with pytest.raises(isochord.IsochordError, match="hop"):
        isochord.features(rr_ms=rr, window=10, hop=20)
    with pytest.raises(isochord.IsochordError, match="nosuch"):
        isochord.features(path="/nonexistent/nosuch.csv")


@pytest.fixture(scope="module")
def session(tmp_path_factory):
    out = tmp_path_factory.mktemp("session")
    summary = isochord.render_session("relax", E4_EXCERPT, out, seconds=45, seed=3,
                                      sample_rate=16000)
    return out, summary


def test_render_session_files_and_summary(session):
    out, s = session
    assert s["frames"] == 45 * 16000 and s["seconds"] == 45
    for f in ["session.wav", "session.jsonl", "report.html", "summary.json", "timeline.csv"]:
        assert (out / f).is_file(), f
    assert s["report"] == str(out / "report.html")
    assert s["summary"] == json.loads((out / "summary.json").read_text())
    assert s["outcome"]["input_items"] > 0
    with pytest.raises(isochord.IsochordError, match="exists"):
        isochord.render_session("relax", E4_EXCERPT, out, seconds=2)


def test_read_log(session):
    out, _ = session
    df = isochord.read_log(out / "session.jsonl")
    # one record per second; the last second is closed by the summary record
    assert len(df) == 44
    assert np.array_equal(df["t"].to_numpy(), np.arange(1, 45, dtype=float))
    for c in ["raw.items", "raw.hr_bpm", "policy.phase", "params.tempo", "output.rms_dbfs"]:
        assert c in df.columns, c
    assert df["params.tempo"].between(40, 140).all()
    assert df.attrs["header"]["preset"] == "relax"
    assert df.attrs["summary"]["t"] == pytest.approx(45, abs=0.2)
    assert df.attrs["partial"] is None
    assert any(d["kind"] == "phase" for d in df.attrs["decisions"])
    # a report folder reads as its log
    assert len(isochord.read_log(out)) == 44


def test_read_timeline_equals_report_csv(session):
    out, _ = session
    df = isochord.read_timeline(out / "session.jsonl")
    csv = pd.read_csv(out / "timeline.csv", dtype={"rr_ms": str, "phase": str, "action": str})
    assert list(df.columns) == list(csv.columns)
    pd.testing.assert_frame_equal(df, csv)
    assert len(df) == 44 and df["tempo"].notna().all()


def test_bad_log_names_file_and_line(tmp_path, session):
    out, _ = session
    lines = (out / "session.jsonl").read_text().splitlines()
    bad = tmp_path / "bad.jsonl"
    rec = json.loads(lines[3])
    del rec["policy"]
    bad.write_text("\n".join(lines[:3] + [json.dumps(rec)] + lines[4:]) + "\n")
    with pytest.raises(isochord.IsochordError, match=r"bad\.jsonl.*4.*policy"):
        isochord.read_log(bad)
    with pytest.raises(isochord.IsochordError, match=r"bad\.jsonl"):
        isochord.read_timeline(bad)
