#!/usr/bin/env python3
"""Supplementary NeuroKit2 reference values, computed from the recordings stored in
this test-data folder (nothing is downloaded).

    python3 engine/tests/data/biometrics/reference/make_reference_supplement.py

Written with NeuroKit2 0.2.13 (see versions_supplement.json for every version).

Outputs (this folder):

  rpeaks_uncorrected_<record>.csv
      NeuroKit2's R-peaks BEFORE artifact correction, for the four ECG records of
      ecg_whole_record.csv. In NeuroKit2 0.2.13, nk.ecg_process() always calls
      nk.ecg_peaks(..., correct_artifacts=True): the R-peaks it returns (and so
      rpeaks_<record>.csv and every ECG value in ecg_*.csv) went through
      nk.signal_fixpeaks(method="Kubios", iterative=True) (Lipponen & Tarvainen 2019),
      which deletes, inserts and moves beats. ecg_process keeps the detector's own
      output in info["ECG_R_Peaks_Uncorrected"]; that is what these files hold. The
      script checks that info["ECG_R_Peaks"] still equals rpeaks_<record>.csv.

  rsp_resting_5min.csv
      Respiration rate of bio_resting_5min_100hz.csv (column RSP, belt, 100 Hz) from
      signals, info = nk.rsp_process(rsp, sampling_rate=100)  (method "khodadad2018":
      0.05-3 Hz 2nd-order Butterworth band-pass, breaths from zero crossings with a
      0.3 x median amplitude rule, RSP_Rate = 60 / trough-to-trough interval,
      monotone-cubic interpolated to every sample). One row for the whole record and
      one per consecutive 60 s window [k*60, (k+1)*60) s:
        RSP_Rate_mean_bpm       mean of RSP_Rate over the span, NeuroKit2 run once on
                                the whole record (the reference value)
        breaths                 trough-to-trough intervals lying inside the span
        rate_from_breaths_bpm   60 / mean of those intervals (breaths counted)
        RSP_Rate_mean_window_run_bpm
                                mean RSP_Rate when NeuroKit2 runs on the span alone:
                                how much the reference itself depends on context
"""
import json
import os
import sys
import warnings
from pathlib import Path

HERE = Path(__file__).resolve().parent
DATA = HERE.parent
# matplotlib (imported by neurokit2) wants a writable cache folder
os.environ.setdefault("MPLCONFIGDIR", str(Path(os.environ.get("TMPDIR", "/tmp")) / "mplconfig"))

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import scipy  # noqa: E402
import neurokit2 as nk  # noqa: E402

warnings.filterwarnings("ignore")


def mitbih_mlii():
    """Lead MLII of MIT-BIH record 100 in mV, decoded from the WFDB format-212 file
    (gain 200 adu/mV, baseline 1024, as in 100.hea)."""
    raw = np.fromfile(DATA / "mitbih" / "100.dat", dtype=np.uint8).reshape(-1, 3).astype(np.int32)
    first = raw[:, 0] | ((raw[:, 1] & 0x0F) << 8)
    second = raw[:, 2] | ((raw[:, 1] & 0xF0) << 4)
    adu = np.empty(2 * len(raw), dtype=np.int32)
    adu[0::2], adu[1::2] = first, second
    adu[adu > 2047] -= 4096
    mlii = adu[0::2]
    assert len(mlii) == 650000 and mlii[0] == 995, "unexpected 100.dat contents"
    return (mlii - 1024) / 200.0


ECG_RECORDS = [
    ("nk_bio_resting_5min_100hz_ECG", lambda: pd.read_csv(DATA / "neurokit" / "bio_resting_5min_100hz.csv")["ECG"].to_numpy(), 100),
    ("nk_bio_eventrelated_100hz_ECG", lambda: pd.read_csv(DATA / "neurokit" / "bio_eventrelated_100hz.csv")["ECG"].to_numpy(), 100),
    ("nk_ecg_1000hz", lambda: pd.read_csv(DATA / "neurokit" / "ecg_1000hz.csv")["ECG"].to_numpy(), 1000),
    ("mitbih100_MLII", mitbih_mlii, 360),
]


def uncorrected_rpeaks():
    for name, load, fs in ECG_RECORDS:
        _, info = nk.ecg_process(load(), sampling_rate=fs)
        corrected = np.asarray(info["ECG_R_Peaks"])
        stored = pd.read_csv(HERE / f"rpeaks_{name}.csv")["peak_sample"].to_numpy()
        if not np.array_equal(corrected, stored):
            sys.exit(f"{name}: nk.ecg_process no longer reproduces rpeaks_{name}.csv")
        raw = np.asarray(info["ECG_R_Peaks_Uncorrected"])
        pd.DataFrame({"peak_sample": raw}).to_csv(HERE / f"rpeaks_uncorrected_{name}.csv", index=False)
        moved = len(set(raw.tolist()) ^ set(corrected.tolist()))
        print(f"{name}: {len(raw)} uncorrected peaks, {len(corrected)} after correction, {moved} differ")


def respiration():
    fs = 100
    rsp = pd.read_csv(DATA / "neurokit" / "bio_resting_5min_100hz.csv")["RSP"].to_numpy()
    signals, info = nk.rsp_process(rsp, sampling_rate=fs)
    rate = signals["RSP_Rate"].to_numpy()
    troughs = np.asarray(info["RSP_Troughs"])
    spans = [(0.0, len(rsp) / fs)] + [(k * 60.0, (k + 1) * 60.0) for k in range(int(len(rsp) / fs // 60))]
    rows = []
    for a, b in spans:
        i, j = int(round(a * fs)), int(round(b * fs))
        t = troughs[(troughs >= i) & (troughs < j)]
        gaps = np.diff(t) / fs
        window_signals, _ = nk.rsp_process(rsp[i:j], sampling_rate=fs)
        rows.append({
            "record": "nk_bio_resting_5min_100hz_RSP",
            "fs_hz": fs,
            "win_start_s": a,
            "win_end_s": b,
            "RSP_Rate_mean_bpm": float(np.mean(rate[i:j])),
            "breaths": int(len(gaps)),
            "rate_from_breaths_bpm": float(60.0 / np.mean(gaps)),
            "RSP_Rate_mean_window_run_bpm": float(np.mean(window_signals["RSP_Rate"])),
        })
    df = pd.DataFrame(rows)
    df.to_csv(HERE / "rsp_resting_5min.csv", index=False, float_format="%.6g")
    print(df.to_string(index=False))


def main():
    uncorrected_rpeaks()
    respiration()
    versions = {
        "versions": {
            "python": sys.version.split()[0],
            "neurokit2": nk.__version__,
            "numpy": np.__version__,
            "pandas": pd.__version__,
            "scipy": scipy.__version__,
        },
        "conventions": {
            "ecg_process": "nk.ecg_process(ecg, sampling_rate=fs) calls nk.ecg_peaks(..., correct_artifacts=True): its R-peaks (rpeaks_<record>.csv, ecg_*.csv) are corrected by nk.signal_fixpeaks(method='Kubios', iterative=True); the detector's own peaks are info['ECG_R_Peaks_Uncorrected'] (rpeaks_uncorrected_<record>.csv)",
            "rsp_process": "signals, info = nk.rsp_process(rsp, sampling_rate=100)  # method='khodadad2018'; RSP_Rate from info['RSP_Troughs'], monotone-cubic interpolation",
            "rsp_windows": "consecutive [k*60, (k+1)*60) s windows; RSP_Rate_mean_bpm averages the whole-record RSP_Rate over the window's samples; rate_from_breaths_bpm uses the trough-to-trough intervals whose troughs both lie in the window; RSP_Rate_mean_window_run_bpm runs nk.rsp_process on the window's samples alone",
        },
    }
    (HERE / "versions_supplement.json").write_text(json.dumps(versions, indent=2) + "\n")


if __name__ == "__main__":
    main()
