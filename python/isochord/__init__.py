"""Isochord from Python: adaptive therapeutic soundscapes steered by biometrics.

Render sessions to numpy arrays or to files (WAV, session log, clinical-review report),
run a session in your own loop with readings pushed from Python, compute the windowed
biometric features of a recording, and read session logs and timelines as pandas
DataFrames.

>>> import isochord
>>> audio = isochord.render("relax", seconds=10)        # float32, shape (480000, 2)
>>> summary = isochord.render_session("relax", "assets/demo/stress-predict-S02",
...                                   "out/s02", seconds=120)
>>> df = isochord.read_timeline("out/s02/session.jsonl")

Threads: every function runs on the calling thread and releases the GIL while the
engine works, so renders on several Python threads run in parallel. A
:class:`Session` may be used from several threads: :meth:`Session.render` is its audio
side, the other methods its control side.

Bad input raises :class:`IsochordError` (a :class:`ValueError`) whose message names
the argument, or the file, line and field.
"""

from __future__ import annotations

import io
import json
import os
from typing import Any, Dict, List, Optional, Sequence, Union

import numpy as np
import pandas as pd

from . import _isochord
from ._isochord import IsochordError

__version__: str = _isochord.__version__

__all__ = [
    "IsochordError",
    "Session",
    "features",
    "preset_toml",
    "presets",
    "read_log",
    "read_timeline",
    "render",
    "render_session",
]

PathLike = Union[str, "os.PathLike[str]"]


def _path(p: Optional[PathLike]) -> Optional[str]:
    return None if p is None else os.fspath(p)


def render(
    preset: str,
    seconds: float,
    sample_rate: int = 48000,
    seed: int = 0,
    automation: Optional[PathLike] = None,
    biometrics: Optional[PathLike] = None,
) -> np.ndarray:
    """Render a session offline and return it as a ``(frames, 2)`` float32 array.

    The samples are bit-identical to ``isochord render --preset PRESET --duration
    SECONDSs --seed SEED --format f32`` (with ``--automation`` / ``--biometrics``).

    Args:
        preset: a built-in preset name (see :func:`presets`), a path to a preset
            ``.toml`` file, or preset TOML text.
        seconds: length, closing fade included (1 to 86400).
        sample_rate: output rate, Hz (8000 to 192000).
        seed: seed of every random choice: the same seed renders the same samples.
        automation: a keyframe CSV (time, then parameter columns) steering the session.
        biometrics: a recording steering an adaptive session, as ``isochord render
            --biometrics`` takes it: an Empatica E4 export folder, a CSV or JSON Lines
            file of readings, or ``"sim"`` for the simulated listener.

    Raises:
        IsochordError: bad input (unknown preset, unreadable recording, ...).

    The GIL is released while rendering. Runs on the calling thread.
    """
    return _isochord.render(
        preset,
        float(seconds),
        sample_rate=int(sample_rate),
        seed=int(seed),
        automation=_path(automation),
        biometrics=_path(biometrics),
    )


def render_session(
    preset: str,
    biometrics: PathLike,
    out_dir: PathLike,
    seconds: Optional[float] = None,
    seed: int = 1,
    sample_rate: int = 48000,
    overwrite: bool = False,
) -> Dict[str, Any]:
    """Render an adaptive session over a recording into ``out_dir`` and summarise it.

    Writes ``out_dir/session.wav`` (32-bit float), the session log
    ``out_dir/session.jsonl`` and the clinical-review report (``report.html``,
    ``summary.json``, ``timeline.csv``, plots, FHIR bundle) into ``out_dir``, as
    ``isochord render --biometrics REC --report OUT_DIR --out OUT_DIR/session.wav``
    does.

    Args:
        preset: built-in name, ``.toml`` path or TOML text.
        biometrics: the recording (E4 folder, CSV or JSON Lines file, or ``"sim"``).
        out_dir: output folder (created if missing).
        seconds: session length (default: the preset's).
        seed: seed of every random choice.
        sample_rate: output rate, Hz.
        overwrite: replace a WAV or log that already exists (otherwise refused).

    Returns:
        A dict: ``preset``, ``biometrics``, ``seed``, ``sample_rate``, ``frames``,
        ``seconds``, ``render_s`` (wall time), ``rms_dbfs``, ``peak_dbfs``, ``wav``
        (list of files), ``log``, ``report`` (path of report.html), ``outcome`` (what
        the engine measured), ``notes`` and ``summary`` (the report's summary.json).

    The GIL is released while rendering. Runs on the calling thread.
    """
    text = _isochord.render_session(
        preset,
        os.fspath(biometrics),
        os.fspath(out_dir),
        seconds=None if seconds is None else float(seconds),
        seed=int(seed),
        sample_rate=int(sample_rate),
        overwrite=bool(overwrite),
    )
    result: Dict[str, Any] = json.loads(text)
    return result


def presets() -> List[str]:
    """The built-in presets' names."""
    return list(_isochord.presets())


def preset_toml(name: str) -> str:
    """The TOML text of the built-in preset ``name`` (a starting point for your own)."""
    return _isochord.preset_toml(name)


def features(
    rr_ms: Optional[Sequence[float]] = None,
    eda: Optional[Sequence[float]] = None,
    fs: Optional[float] = None,
    path: Optional[PathLike] = None,
    *,
    format: Optional[str] = None,
    rate: Optional[float] = None,
    window: float = 60.0,
    hop: float = 5.0,
    baseline_from: Optional[float] = None,
    baseline_to: Optional[float] = None,
) -> pd.DataFrame:
    """Windowed biometric features, one row per window, as ``isochord features``.

    Give either a recording ``path`` (E4 folder, CSV or JSON Lines of readings, raw
    ECG/PPG CSV with ``format="ecg"``/``"ppg"``, WFDB ``.hea``), or arrays: ``rr_ms``
    (successive RR intervals in milliseconds; beat *i* ends at their running sum) and/or
    ``eda`` (skin conductance in microsiemens sampled at ``fs`` Hz from time 0).

    The columns are those of ``isochord features``: ``start_s``, ``end_s``,
    ``quality``, ``beats``, ``rejected_beats``, ``rejected_samples``, the features
    (``mean_hr``, ``mean_nn``, ``sdnn``, ``rmssd``, ``pnn50``, ``lf``, ``hf``,
    ``lf_hf``, ``eda_tonic``, ``scr_rate``, ``resp_rate``, ``acc_*``, ``skin_temp``,
    ...) and each feature relative to the person's baseline as ``rel_NAME``. Features
    not measured are NaN. ``df.attrs["rejected_items"]`` counts the items the source
    rejected.

    Args:
        window: window length, seconds.
        hop: time between windows, seconds (at most ``window``).
        baseline_from, baseline_to: the baseline period, session seconds (default:
            the first 5 minutes).
        format: the recording's format (default: from the path).
        rate: sample rate, Hz, for files without a time column.
    """
    cols, rows, issues = _isochord.features(
        path=_path(path),
        format=format,
        rate=None if rate is None else float(rate),
        rr_ms=None if rr_ms is None else [float(x) for x in np.asarray(rr_ms, dtype=float).ravel()],
        eda=None if eda is None else [float(x) for x in np.asarray(eda, dtype=float).ravel()],
        fs=None if fs is None else float(fs),
        window=float(window),
        hop=float(hop),
        baseline_from=baseline_from,
        baseline_to=baseline_to,
    )
    df = pd.DataFrame(np.array(rows, dtype=float).reshape(len(rows), len(cols)), columns=cols)
    for c in ("beats", "rejected_beats", "rejected_samples"):
        df[c] = df[c].astype("int64")
    df.attrs["rejected_items"] = issues
    return df


def _flatten(record: Dict[str, Any], prefix: str = "") -> Dict[str, Any]:
    out: Dict[str, Any] = {}
    for k, v in record.items():
        key = f"{prefix}{k}"
        if isinstance(v, dict):
            out.update(_flatten(v, key + "."))
        else:
            out[key] = v
    return out


def read_log(path: PathLike) -> pd.DataFrame:
    """Read a session log (JSON Lines) into a DataFrame, one row per logged second.

    The log is checked as the report reads it: a problem raises
    :class:`IsochordError` naming the file, line and field. ``path`` may also be a
    report folder (its ``session.jsonl`` is read).

    Columns are the second records' fields, nested ones joined by dots: ``t``,
    ``raw.items``, ``raw.hr_bpm``, ``raw.rr_ms`` (a list), ``window.features.rmssd``,
    ``model.arousal``, ``policy.phase``, ``params.tempo``, ``output.rms_dbfs``,
    ``allowance.used``, ``decisions`` (a list of dicts, or None), ...

    ``df.attrs`` holds ``header`` (the session's facts), ``summary`` (the closing
    record, None for a partial session), ``decisions`` (every decision, sorted by
    time) and ``partial`` (why the session is partial, or None).
    """
    data = json.loads(_isochord.read_log(os.fspath(path)))
    rows = [_flatten(r) for r in data["seconds"]]
    df = pd.DataFrame(rows)
    if "t" in df.columns:
        df = df[["t"] + [c for c in df.columns if c != "t"]]
    df.attrs["header"] = data["header"]
    df.attrs["summary"] = data["summary"]
    df.attrs["decisions"] = data["decisions"]
    df.attrs["partial"] = data["partial"]
    return df


def read_timeline(path: PathLike) -> pd.DataFrame:
    """The per-second timeline of a session log (or report folder) as a DataFrame.

    The same table as the report's ``timeline.csv``: ``t_s``, ``items``, ``issues``,
    ``hr_bpm``, ``rr_count``, ``rr_ms`` (``;``-separated text), ``eda_us``,
    ``resp_rate``, the newest feature window (``window_end_s``, ``win_*``), the
    estimate (``arousal``, ``confidence``, ``abstain``), the policy
    (``policy_arousal``, ``phase``, ``action``, ``level``, ``sensor_lost_s``,
    ``breath_target``), the sound (``tempo``, ``brightness``, ``density``,
    ``energy``, ``reverb``, ``breath_guide``), the level (``rms_dbfs``, ``spl_db``),
    the allowance (``allowance_used``, ``leq_db``) and ``decisions`` (a count).
    """
    text = _isochord.read_timeline(os.fspath(path))
    return pd.read_csv(io.StringIO(text), dtype={"rr_ms": str, "phase": str, "action": str})


class Session:
    """A session rendered in your own loop, steered by readings you push.

    >>> s = isochord.Session("relax", seconds=60, log="out/live.jsonl",
    ...                      report="out/live-report")
    >>> s.push("hr", 0.5, 92.0)
    >>> block = s.render(4800)            # 0.1 s of float32 stereo, shape (4800, 2)
    >>> s.set_param("tempo", 64)
    >>> s.events()                        # [{'time': 0.0, 'kind': 'phase', ...}, ...]
    >>> summary = s.end()                 # writes the log's summary and the report

    Args:
        preset: built-in name, ``.toml`` path or TOML text.
        seconds: planned length, closing fade included.
        sample_rate: output rate, Hz.
        seed: seed of every random choice.
        biometrics: ``"pushed"`` (readings come from :meth:`push`), another input
            (``"sim"``, a recording replayed at its own pace, ``"osc://..."``), or
            None for the preset's own sound.
        pacing: with pushed readings, ``"live"`` (each control tick uses what has
            arrived) or ``"recorded"`` (each tick waits for a reading later than its
            time, or for :meth:`close_input`: the render then does not depend on
            timing).
        log: session log (JSON Lines) to write; adaptive sessions only.
        report: folder for the report written by :meth:`end` (needs ``log``).
        overwrite: replace a log that already exists.

    :meth:`render` is the audio side (one thread at a time); the other methods are
    the control side and may be called from any thread.
    """

    def __init__(
        self,
        preset: str,
        seconds: float = 600.0,
        sample_rate: int = 48000,
        seed: int = 1,
        biometrics: Optional[str] = "pushed",
        pacing: str = "live",
        log: Optional[PathLike] = None,
        report: Optional[PathLike] = None,
        overwrite: bool = False,
    ) -> None:
        self._s = _isochord.Session(
            preset,
            seconds=float(seconds),
            sample_rate=int(sample_rate),
            seed=int(seed),
            biometrics=biometrics,
            pacing=pacing,
            log=_path(log),
            report=_path(report),
            overwrite=bool(overwrite),
        )

    @property
    def sample_rate(self) -> int:
        """Output sample rate, Hz."""
        return self._s.sample_rate

    @property
    def preset(self) -> str:
        """The preset's name."""
        return self._s.preset

    @property
    def time(self) -> float:
        """Session time, seconds: frames rendered over the sample rate. Stamp pushed
        readings with it."""
        return self._s.time

    @property
    def finished(self) -> bool:
        """Whether the whole session has been rendered."""
        return self._s.finished

    def render(self, frames: int, timeout: float = 30.0) -> np.ndarray:
        """Render the next ``frames`` frames: float32 array ``(n, 2)``, ``n < frames``
        only at the session's end (empty once finished).

        Each control tick's decisions are applied at the frame an offline render
        applies them, so the sound does not depend on timing. Raises
        :class:`TimeoutError` when no tick was decided for ``timeout`` seconds (with
        ``pacing="recorded"``: push readings past that time, or :meth:`close_input`).
        The GIL is released while rendering.
        """
        return self._s.render(int(frames), timeout=float(timeout))

    def push(self, kind: str, t: float, value: float = 0.0) -> None:
        """Push a reading measured at ``t`` seconds of session time.

        ``kind``: ``"hr"`` (beats/min), ``"rr_ms"`` (RR interval ending at ``t``,
        ms), ``"eda"`` (µS), ``"resp_rate"`` (breaths/min), ``"resp"`` (raw
        respiration), ``"temp"`` (°C) or ``"contact_lost"`` (value ignored).
        """
        self._s.push(kind, float(t), float(value))

    def set_param(self, name: str, value: float) -> None:
        """Set a sound parameter (``tempo``, ``brightness``, ``density``,
        ``breath_rate``, ``energy``, ``reverb``, ...) at the next control tick, clamped
        into its range; logged as a ``host`` event. In an adaptive session the
        controller may move it again later."""
        self._s.set_param(name, float(value))

    def close_input(self) -> None:
        """Close the pushed input: the log records that it ended; later pushes fail."""
        self._s.close_input()

    def stop(self) -> None:
        """Fade out over 2 s and end early."""
        self._s.stop()

    def events(self) -> List[Dict[str, Any]]:
        """The events since the last call, oldest first: dicts with ``time``,
        ``kind`` (``phase``, ``decision``, ``breath``, ``estimate``, ``sensor``,
        ``escalation``, ``safety``, ``personalisation``, ``content``, ``playback``,
        ``host``, ``fade_out``), ``message`` and ``review``."""
        events: List[Dict[str, Any]] = json.loads(self._s.events())
        return events

    def end(self) -> Dict[str, Any]:
        """End the session (stopping it if it still plays), write the log's last
        records and the report, and return the summary: ``completed``, ``frames``,
        ``seconds``, ``late_ticks``, ``rms_dbfs``, ``peak_dbfs``, ``outcome``,
        ``notes``, ``report``. Events stay readable afterwards."""
        summary: Dict[str, Any] = json.loads(self._s.end())
        return summary

    @property
    def ended(self) -> bool:
        """Whether :meth:`end` was called."""
        return self._s.ended

    def __enter__(self) -> "Session":
        return self

    def __exit__(self, *exc: object) -> None:
        if not self._s.ended:
            self.end()
