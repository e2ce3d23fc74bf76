"""The Dask cohort example: two worker processes give the same table as one process."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from conftest import E4_EXCERPT, ROOT, S02

SECONDS = 40


def load_example():
    path = ROOT / "examples" / "python" / "cohort_dask.py"
    spec = importlib.util.spec_from_file_location("cohort_dask", path)
    mod = importlib.util.module_from_spec(spec)
    sys.modules["cohort_dask"] = mod
    spec.loader.exec_module(mod)
    return mod


def s02_slice(dest: Path, start_s: float, length_s: float) -> None:
    """A CSV recording of readings (hr, rr_ms, eda_us) cut from the bundled E4 export
    of Stress-Predict S02, times relative to the cut."""
    def series(name):
        lines = (S02 / name).read_text().splitlines()
        return float(lines[0].split(",")[0]), lines

    rows = []
    t0, hr = series("HR.csv")
    rate = float(hr[1])
    for i, v in enumerate(hr[2:]):
        rows.append((t0 + i / rate, f"{v.strip()},,"))
    t0, eda = series("EDA.csv")
    rate = float(eda[1])
    for i, v in enumerate(eda[2:]):
        rows.append((t0 + i / rate, f",,{v.strip()}"))
    t0, ibi = series("IBI.csv")
    for line in ibi[1:]:
        at, dur = (float(x) for x in line.split(","))
        rows.append((t0 + at, f",{dur * 1000:.1f},"))
    start = min(r[0] for r in rows) + start_s
    keep = sorted((t - start, cells) for t, cells in rows if start <= t < start + length_s)
    dest.write_text("time,hr,rr_ms,eda_us\n" + "".join(f"{t:.4f},{c}\n" for t, c in keep))


@pytest.fixture(scope="module")
def cohort(tmp_path_factory):
    d = tmp_path_factory.mktemp("recordings")
    (d / "a-flirt-excerpt").symlink_to(E4_EXCERPT, target_is_directory=True)
    (d / "b-s02-whole").symlink_to(S02, target_is_directory=True)
    s02_slice(d / "c-s02-stroop.csv", 300, 120)
    s02_slice(d / "d-s02-rest.csv", 1500, 120)
    # a recording without one usable reading: a failed row, not a failed cohort
    (d / "e-empty.csv").write_text("time,hr\n0,banana\n")
    return d


def test_dask_two_workers_equal_single_process(cohort, tmp_path):
    from dask.distributed import Client, LocalCluster

    ex = load_example()
    single = ex.run_cohort(cohort, tmp_path / "single", "relax", SECONDS, seed=2)
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                      dashboard_address=None) as cluster, Client(cluster) as client:
        distributed = ex.run_cohort(cohort, tmp_path / "dask", "relax", SECONDS, seed=2,
                                    client=client)
    assert list(single["recording"]) == ["a-flirt-excerpt", "b-s02-whole", "c-s02-stroop",
                                         "d-s02-rest", "e-empty"]
    assert list(single["status"]) == ["ok"] * 4 + ["failed"]
    assert "no usable readings" in single["error"].iloc[4]
    keep = [c for c in single.columns if c not in ex.TIMING_COLUMNS]
    pd.testing.assert_frame_equal(single[keep], distributed[keep])
    ok = single[single["status"] == "ok"]
    assert (ok["seconds"] == SECONDS).all()
    assert ok["hr_baseline"].notna().all()
    # the sessions differ: they were steered by different recordings
    assert ok["hr_baseline"].nunique() == 4
    for out in ["single", "dask"]:
        csv = pd.read_csv(tmp_path / out / "cohort.csv")
        assert len(csv) == 5
        page = (tmp_path / out / "index.html").read_text()
        for name in ok["recording"]:
            assert f'href="{name}/report.html"' in page
            assert (tmp_path / out / name / "report.html").is_file()
    # the WAVs written on the workers are those written here
    for name in ok["recording"]:
        a = (tmp_path / "single" / name / "session.wav").read_bytes()
        b = (tmp_path / "dask" / name / "session.wav").read_bytes()
        assert a == b, name
