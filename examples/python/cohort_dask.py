"""Render a cohort of recordings on a Dask cluster and merge their summaries.

Every recording in a folder (each sub-folder an Empatica E4 export, each ``.csv`` /
``.jsonl`` file a recording of readings) is rendered as an adaptive session with
``isochord.render_session`` on a Dask distributed cluster, each into its own folder
(WAV, session log, clinical-review report). The summaries are merged into one pandas
table, written as ``cohort.csv``, and ``index.html`` links every report.

    python examples/python/cohort_dask.py assets/demo --out out/cohort \\
        --preset relax --seconds 120 --workers 2

Without ``--scheduler`` a ``LocalCluster`` of ``--workers`` processes is started on
127.0.0.1; with ``--scheduler tcp://HOST:PORT`` the sessions run on that cluster (its
workers need the ``isochord`` package and the recordings at the same paths). With
``--workers 0`` everything runs in this process, without Dask.
"""

from __future__ import annotations

import argparse
import html
import os
import sys
import time
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence

import pandas as pd

import isochord

# Columns of the cohort table after recording, status, error: the session's own figures,
# then those of the report's summary.json (JSON pointers, as `isochord render-batch`).
SESSION_FIELDS = ["seconds", "frames", "render_s", "rms_dbfs", "peak_dbfs"]
SUMMARY_FIELDS = [
    ("partial", "/session/partial"),
    ("recorded_duration_s", "/session/recorded_duration_s"),
    ("hr_baseline", "/heart_rate_bpm/baseline"),
    ("hr_closing", "/heart_rate_bpm/closing"),
    ("rmssd_baseline", "/rmssd_ms/baseline"),
    ("rmssd_closing", "/rmssd_ms/closing"),
    ("sdnn_baseline", "/sdnn_ms/baseline"),
    ("sdnn_closing", "/sdnn_ms/closing"),
    ("breathing_baseline", "/breathing_rate_per_min/baseline"),
    ("breathing_closing", "/breathing_rate_per_min/closing"),
    ("arousal_baseline", "/arousal/baseline"),
    ("arousal_closing", "/arousal/closing"),
    ("time_to_calm_s", "/time_to_calm_s"),
    ("escalations", "/escalations/count"),
    ("data_loss_fraction", "/signal_quality/data_loss_fraction"),
    ("usable_estimates", "/signal_quality/usable_estimates"),
    ("estimates", "/signal_quality/estimates"),
    ("allowance_used", "/allowance/used"),
]
# Columns that depend on the machine, not the session (left out when comparing runs).
TIMING_COLUMNS = ["render_s"]


def recordings(folder: Path) -> List[Path]:
    """The recordings in ``folder``: sub-folders (E4 exports) and .csv / .jsonl files."""
    if not folder.is_dir():
        raise isochord.IsochordError(f"{folder}: not a folder of recordings")
    found = sorted(
        p
        for p in folder.iterdir()
        if p.is_dir() or p.suffix.lower() in (".csv", ".jsonl")
    )
    if not found:
        raise isochord.IsochordError(
            f"{folder}: no recordings (sub-folders or .csv / .jsonl files)"
        )
    return found


def _pointer(doc: Any, pointer: str) -> Any:
    for key in pointer.strip("/").split("/"):
        if not isinstance(doc, dict) or key not in doc:
            return None
        doc = doc[key]
    return doc


def row(name: str, result: Optional[Dict[str, Any]], error: Optional[str]) -> Dict[str, Any]:
    """One line of the cohort table from a session's summary (or its error)."""
    r: Dict[str, Any] = {
        "recording": name,
        "status": "ok" if error is None else "failed",
        "error": error or "",
    }
    for f in SESSION_FIELDS:
        r[f] = None if result is None else result.get(f)
    for col, ptr in SUMMARY_FIELDS:
        r[col] = None if result is None else _pointer(result.get("summary"), ptr)
    r["report"] = "" if result is None else os.path.relpath(result["report"], result["_out"])
    return r


def _table(rows: List[Dict[str, Any]]) -> pd.DataFrame:
    df = pd.DataFrame(rows)
    return df.sort_values("recording", kind="stable").reset_index(drop=True)


def run_cohort(
    folder: Path,
    out: Path,
    preset: str = "relax",
    seconds: Optional[float] = None,
    seed: int = 1,
    client: Any = None,
    overwrite: bool = True,
) -> pd.DataFrame:
    """Render every recording in ``folder`` into ``out/NAME/`` and return the cohort
    table (also written to ``out/cohort.csv``, with ``out/index.html``).

    With a Dask ``client`` the sessions run on its workers, otherwise one after the
    other in this process. A recording that fails is a row with status ``failed`` and
    its error.
    """
    recs = recordings(folder)
    out.mkdir(parents=True, exist_ok=True)
    names = [r.stem for r in recs]
    outs = [str((out / n).resolve()) for n in names]
    args = dict(seconds=seconds, seed=seed, overwrite=overwrite)
    results: List[Optional[Dict[str, Any]]] = []
    errors: List[Optional[str]] = []
    if client is None:
        for rec, o in zip(recs, outs):
            try:
                results.append(isochord.render_session(preset, str(rec.resolve()), o, **args))
                errors.append(None)
            except (isochord.IsochordError, RuntimeError) as e:
                results.append(None)
                errors.append(str(e))
    else:
        futures = client.map(
            isochord.render_session,
            [preset] * len(recs),
            [str(r.resolve()) for r in recs],
            outs,
            pure=False,
            **args,
        )
        for f in futures:
            try:
                results.append(f.result())
                errors.append(None)
            except (isochord.IsochordError, RuntimeError) as e:
                results.append(None)
                errors.append(str(e))
    rows = []
    # paths in messages relative to the cohort's folder, as the table's links are
    prefix = str(out.resolve()) + os.sep
    errors = [None if e is None else e.replace(prefix, "") for e in errors]
    for name, o, res, err in zip(names, outs, results, errors):
        if res is not None:
            res["_out"] = str(out.resolve())
        rows.append(row(name, res, err))
    table = _table(rows)
    table.to_csv(out / "cohort.csv", index=False)
    write_index(table, out / "index.html", preset)
    return table


def write_index(table: pd.DataFrame, path: Path, preset: str) -> None:
    """An HTML page linking each session's report, with its main figures."""
    shown = ["status", "seconds", "hr_baseline", "hr_closing", "arousal_baseline",
             "arousal_closing", "escalations", "data_loss_fraction"]
    head = "".join(f"<th>{html.escape(c)}</th>" for c in ["recording"] + shown)
    lines = []
    for _, r in table.iterrows():
        name = html.escape(str(r["recording"]))
        first = f'<a href="{html.escape(str(r["report"]))}">{name}</a>' if r["status"] == "ok" else name
        cells = "".join(
            f"<td>{'' if pd.isna(r[c]) else html.escape(str(r[c]))}</td>" for c in shown
        )
        err = f'<td>{html.escape(str(r["error"]))}</td>' if r["status"] != "ok" else "<td></td>"
        lines.append(f"<tr><td>{first}</td>{cells}{err}</tr>")
    ok = int((table["status"] == "ok").sum())
    page = (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        f"<title>Isochord cohort: {len(table)} sessions</title>"
        "<style>body{font-family:sans-serif;margin:1.5em auto;max-width:1100px}"
        "table{border-collapse:collapse}th,td{border:1px solid #ccc;padding:.25em .6em}</style>"
        "</head><body>\n"
        f"<h1>Cohort of {len(table)} recordings, preset {html.escape(preset)}</h1>\n"
        f"<p>{ok} rendered, {len(table) - ok} failed; every figure in "
        "<a href=\"cohort.csv\">cohort.csv</a>. Not a diagnostic device: see each report.</p>\n"
        f"<table><tr>{head}<th>error</th></tr>\n" + "\n".join(lines) + "\n</table>\n</body></html>\n"
    )
    path.write_text(page, encoding="utf-8")


def main(argv: Optional[Sequence[str]] = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("folder", type=Path, help="folder of recordings")
    ap.add_argument("--out", type=Path, required=True, help="output folder")
    ap.add_argument("--preset", default="relax")
    ap.add_argument("--seconds", type=float, default=None, help="session length (default: the preset's)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--workers", type=int, default=2, help="local worker processes (0: no Dask)")
    ap.add_argument("--scheduler", default=None, help="address of a running Dask scheduler")
    a = ap.parse_args(argv)
    cluster = client = None
    if a.scheduler or a.workers > 0:
        from dask.distributed import Client, LocalCluster

        if a.scheduler:
            client = Client(a.scheduler)
        else:
            cluster = LocalCluster(n_workers=a.workers, threads_per_worker=1,
                                   processes=True, host="127.0.0.1", dashboard_address=None)
            client = Client(cluster)
    try:
        started = time.perf_counter()
        table = run_cohort(a.folder, a.out, a.preset, a.seconds, a.seed, client)
        elapsed = time.perf_counter() - started
    finally:
        if client is not None:
            client.close()
        if cluster is not None:
            cluster.close()
    ok = int((table["status"] == "ok").sum())
    where = a.scheduler or (f"{a.workers} local worker processes" if a.workers else "this process")
    print(
        f"cohort: {ok} of {len(table)} sessions rendered in {elapsed:.1f} s on {where} "
        f"({ok * 60.0 / max(elapsed, 1e-9):.2f} sessions/min) -> {a.out / 'index.html'}"
    )
    for _, r in table[table["status"] != "ok"].iterrows():
        print(f"failed: {r['recording']}: {r['error']}", file=sys.stderr)
    return 0 if ok == len(table) else 1


if __name__ == "__main__":
    sys.exit(main())
