"""isochord.Session: pushed readings, parameters, events, render blocks, end."""

from __future__ import annotations

import numpy as np
import pytest

import isochord

SR = 16000
BLOCK = SR // 10  # one control tick


def heart(t: float) -> float:
    """A listener calming down: 95 bpm falling to 70 over a minute."""
    return 95.0 - 25.0 * min(t / 60.0, 1.0)


def push_until(s: isochord.Session, t_from: float, t_to: float) -> float:
    t = t_from
    while t < t_to:
        bpm = heart(t)
        s.push("hr", t, bpm)
        s.push("rr_ms", t, 60000.0 / bpm)
        s.push("eda", t, 4.0 - 2.0 * min(t / 60.0, 1.0))
        t += 60.0 / bpm
    return t


def test_session_push_events_render_end(tmp_path):
    log = tmp_path / "live.jsonl"
    rep = tmp_path / "report"
    s = isochord.Session("relax", seconds=30, sample_rate=SR, seed=4, log=log, report=rep)
    assert s.sample_rate == SR and s.preset == "relax" and not s.ended
    blocks = []
    pushed = 0.0
    for i in range(30 * 10):
        pushed = push_until(s, pushed, s.time + 0.5)
        if i == 50:
            s.set_param("tempo", 66)
        b = s.render(BLOCK)
        assert b.dtype == np.float32 and b.shape == (BLOCK, 2)
        blocks.append(b)
    assert s.finished
    assert s.render(BLOCK).shape == (0, 2)
    events = s.events()
    kinds = {e["kind"] for e in events}
    assert "phase" in kinds and "host" in kinds, kinds
    host = [e for e in events if e["kind"] == "host"]
    assert "tempo" in host[0]["message"]
    assert all({"time", "kind", "message", "review"} <= set(e) for e in events)
    summary = s.end()
    assert s.ended
    assert summary["completed"] is True
    assert summary["frames"] == 30 * SR
    assert summary["late_ticks"] == 0
    assert summary["outcome"]["input_items"] > 0
    assert summary["report"]["html"].endswith("report.html")
    assert (rep / "report.html").is_file() and (rep / "summary.json").is_file()
    audio = np.concatenate(blocks)
    assert audio.shape == (30 * SR, 2)
    assert -45 < 20 * np.log10(np.sqrt(np.mean(audio[: 20 * SR].astype(float) ** 2))) < -6
    df = isochord.read_log(log)
    # one record per second; the last part-second is in the summary
    assert len(df) in (29, 30)
    assert df.attrs["summary"]["t"] == pytest.approx(30, abs=0.2)
    assert df["raw.hr_bpm"].dropna().between(60, 100).all()
    with pytest.raises(isochord.IsochordError, match="ended"):
        s.push("hr", 40.0, 70.0)
    with pytest.raises(isochord.IsochordError, match="already ended"):
        s.end()


def test_recorded_pacing_is_deterministic():
    def run() -> np.ndarray:
        s = isochord.Session("relax", seconds=12, sample_rate=SR, seed=9, pacing="recorded")
        push_until(s, 0.0, 13.0)
        s.close_input()
        out = []
        while not s.finished:
            out.append(s.render(4096))
        s.end()
        return np.concatenate(out)

    a, b = run(), run()
    assert a.shape == (12 * SR, 2)
    assert np.array_equal(a, b)


def test_fixed_session_and_stop():
    with isochord.Session("sleep", seconds=60, sample_rate=SR, biometrics=None) as s:
        s.render(SR)
        with pytest.raises(isochord.IsochordError, match="pushed"):
            s.push("hr", 1.0, 60.0)
        s.stop()
        rest = [s.render(SR) for _ in range(4)]
        # it fades out over 2 s and ends well before its 60 s
        assert s.finished
        assert sum(len(r) for r in rest) < 3 * SR
    assert s.ended


def test_bad_session_input_names_the_field():
    s = isochord.Session("relax", seconds=5, sample_rate=SR)
    with pytest.raises(isochord.IsochordError, match="kind"):
        s.push("heart", 0.0, 70.0)
    with pytest.raises(isochord.IsochordError, match="t:"):
        s.push("hr", -1.0, 70.0)
    with pytest.raises(isochord.IsochordError, match="value"):
        s.push("hr", 1.0, float("inf"))
    with pytest.raises(isochord.IsochordError, match="unknown parameter"):
        s.set_param("loudness", 1.0)
    s.end()
    with pytest.raises(isochord.IsochordError, match="pacing"):
        isochord.Session("relax", pacing="sometimes")
    with pytest.raises(isochord.IsochordError, match="no such preset"):
        isochord.Session("nosuch")
    with pytest.raises(isochord.IsochordError, match="log and report"):
        isochord.Session("relax", biometrics=None, log="x.jsonl")


def test_recorded_pacing_equals_offline_render_of_the_same_readings(tmp_path):
    readings = []
    t = 0.0
    while t < 21.0:
        bpm = heart(t)
        readings += [(t, "hr", bpm), (t, "rr_ms", 60000.0 / bpm), (t, "eda", 4.0 - t / 30.0)]
        t += 60.0 / bpm
    s = isochord.Session("relax", seconds=20, sample_rate=SR, seed=9, pacing="recorded")
    for t, kind, v in readings:
        s.push(kind, t, v)
    s.close_input()
    blocks = []
    while not s.finished:
        blocks.append(s.render(4096))
    assert s.end()["late_ticks"] == 0
    live = np.concatenate(blocks)
    # the same readings as a CSV recording (values as the session stores them: float32)
    col = {"hr": 0, "rr_ms": 1, "eda": 2}
    lines = ["time,hr,rr_ms,eda_us"]
    for t, kind, v in readings:
        cells = ["", "", ""]
        cells[col[kind]] = repr(float(np.float32(v)))
        lines.append(f"{t!r},{','.join(cells)}")
    rec = tmp_path / "readings.csv"
    rec.write_text("\n".join(lines) + "\n")
    offline = isochord.render("relax", 20, sample_rate=SR, seed=9, biometrics=rec)
    assert live.shape == offline.shape == (20 * SR, 2)
    assert np.array_equal(live, offline)
