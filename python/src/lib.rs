//! `isochord._isochord`: the native half of the Python package `isochord`.
//!
//! A thin host over the library's session API, as the C API is: offline renders
//! ([`isochord_engine::SessionPlan::offline`]) into numpy arrays or into a session's
//! files, live sessions in the host's own loop
//! ([`isochord_engine::LiveSession::with_host_audio`]) with readings pushed from Python,
//! and the readers of recordings, session logs and timelines. The pure-Python half
//! (`python/isochord/__init__.py`) turns what these functions return into pandas
//! DataFrames and dicts; the API users see is documented there.
//!
//! # Threads
//!
//! Every function runs on the calling Python thread. Renders release the GIL while they
//! run, so several Python threads render at once. A `Session`'s audio side is behind its
//! own lock: `Session.render` is its audio thread; the other methods are its control
//! side, and only `end` and `finished` wait for a render in progress to return.

#![warn(missing_docs)]

use isochord_dsp::Param;
use isochord_engine::biometrics::baseline::{Baseline, BaselineConfig};
use isochord_engine::biometrics::features::FeatureConfig;
use isochord_engine::biometrics::recording::{self, RecordingFormat};
use isochord_engine::biometrics::signal::{Reading, SensorData, Value};
use isochord_engine::biometrics::sources::{SourceInfo, VecSource};
use isochord_engine::content::ContentLibrary;
use isochord_engine::output::{self, Existing};
use isochord_engine::report::log_schema::{record_line, SECOND};
use isochord_engine::report::{read, timeline};
use isochord_engine::session::{
    AdaptiveOptions, End, Input, InputSpec, LiveSession, LiveSummary, Pacing, SessionAudio,
    SessionError, SessionPlan, Update,
};
use isochord_engine::{Automation, Preset, SampleFormat, WavSink};
use numpy::ndarray::Array2;
use numpy::{IntoPyArray, PyArray2};
use pyo3::create_exception;
use pyo3::exceptions::{PyRuntimeError, PyTimeoutError, PyValueError};
use pyo3::prelude::*;
use serde_json::{json, Value as Json};
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::sync::Mutex;
use std::time::{Duration, Instant};

create_exception!(
    isochord._isochord,
    IsochordError,
    PyValueError,
    "Bad input: a preset, recording, log or argument that cannot be used. The message names the file, line and field, or the argument."
);

fn bad(msg: impl std::fmt::Display) -> PyErr {
    IsochordError::new_err(msg.to_string())
}

fn session_err(e: SessionError) -> PyErr {
    match e {
        SessionError::Invalid(m) => bad(m),
        e => PyRuntimeError::new_err(e.to_string()),
    }
}

/// A preset from a built-in name, a path to a `.toml` file, or TOML text.
fn load_preset(preset: &str) -> Result<Preset, String> {
    let looks_like_text =
        preset.contains('\n') || (preset.contains('=') && !preset.ends_with(".toml"));
    if looks_like_text {
        return Preset::parse(preset, Path::new("<preset text>")).map_err(|e| e.to_string());
    }
    if Path::new(preset).is_file() {
        return Preset::load(Path::new(preset)).map_err(|e| e.to_string());
    }
    Preset::find(preset).map_err(|e| e.to_string())
}

fn check_rate(sample_rate: u32) -> Result<(), String> {
    if (8_000..=192_000).contains(&sample_rate) {
        Ok(())
    } else {
        Err(format!(
            "sample_rate: {sample_rate} Hz is outside 8000..=192000"
        ))
    }
}

fn check_seconds(seconds: f64) -> Result<Duration, String> {
    if seconds.is_finite() && (1.0..=86_400.0).contains(&seconds) {
        Ok(Duration::from_secs_f64(seconds))
    } else {
        Err(format!(
            "seconds: {seconds} is not a length in 1..=86400 seconds"
        ))
    }
}

/// The plan of an offline session, as `isochord render` makes it: an adaptive session
/// over `biometrics`, an automated one, or the preset's own sound; the bundled content.
fn offline_plan(
    preset: &Preset,
    duration: Duration,
    seed: u64,
    automation: Option<&str>,
    biometrics: Option<&str>,
    options: AdaptiveOptions,
) -> Result<SessionPlan, PyErr> {
    let plan = match (biometrics, automation) {
        (Some(_), Some(_)) => return Err(bad(
            "automation and biometrics: give one or the other (an adaptive session steers itself)",
        )),
        (Some(spec), None) => {
            if spec.parse::<InputSpec>().is_ok_and(|i| i.is_live()) {
                return Err(bad(format!(
                    "biometrics: {spec} is a live input and cannot be rendered offline; record it to a file, or use a Session"
                )));
            }
            let input = Input::parse(spec).map_err(|e| bad(format!("biometrics: {e}")))?;
            SessionPlan::adaptive(preset, duration, seed, input, &options).map_err(session_err)?
        }
        (None, Some(path)) => {
            let a = Automation::load(Path::new(path)).map_err(bad)?;
            SessionPlan::automated(preset, duration, seed, a)
        }
        (None, None) => SessionPlan::fixed(preset, duration, seed),
    };
    Ok(plan.with_content(Some(ContentLibrary::bundled())))
}

/// Renders a session offline into interleaved stereo samples (GIL released).
fn render_samples(
    preset: String,
    seconds: f64,
    sample_rate: u32,
    seed: u64,
    automation: Option<String>,
    biometrics: Option<String>,
) -> PyResult<Vec<f32>> {
    check_rate(sample_rate).map_err(bad)?;
    let duration = check_seconds(seconds).map_err(bad)?;
    let preset = load_preset(&preset).map_err(bad)?;
    let plan = offline_plan(
        &preset,
        duration,
        seed,
        automation.as_deref(),
        biometrics.as_deref(),
        AdaptiveOptions::default(),
    )?;
    let (session, end) = plan.offline(sample_rate).map_err(session_err)?;
    let mut out: Vec<f32> = Vec::with_capacity(2 * session.total_frames() as usize);
    let stop = AtomicBool::new(false);
    let outcome = session
        .render(
            |buf| {
                out.extend_from_slice(buf);
                Ok::<(), ()>(())
            },
            &stop,
            |_, _| {},
        )
        .map_err(|_| PyRuntimeError::new_err("the render failed"))?;
    let session_outcome = end.outcome();
    end.finish(outcome.frames as f64 / sample_rate as f64);
    if let (Some(o), Some(spec)) = (session_outcome, &biometrics) {
        if o.input_items == 0 {
            return Err(bad(format!(
                "biometrics: {spec}: no usable readings ({} rejected, {} ignored): nothing steered the session",
                o.input_rejected, o.input_ignored
            )));
        }
    }
    Ok(out)
}

/// render(preset, seconds, sample_rate, seed, automation, biometrics) -> float32 array of
/// shape (frames, 2). See `isochord.render`.
#[pyfunction]
#[pyo3(signature = (preset, seconds, sample_rate=48_000, seed=0, automation=None, biometrics=None))]
fn render<'py>(
    py: Python<'py>,
    preset: String,
    seconds: f64,
    sample_rate: u32,
    seed: u64,
    automation: Option<PathBuf>,
    biometrics: Option<String>,
) -> PyResult<Bound<'py, PyArray2<f32>>> {
    let automation = automation.map(|p| p.to_string_lossy().into_owned());
    let samples = py.detach(move || {
        render_samples(preset, seconds, sample_rate, seed, automation, biometrics)
    })?;
    let frames = samples.len() / 2;
    let a = Array2::from_shape_vec((frames, 2), samples)
        .map_err(|e| PyRuntimeError::new_err(e.to_string()))?;
    Ok(a.into_pyarray(py))
}

/// Renders an adaptive session to `out_dir` (session.wav, session.jsonl, the report);
/// returns its summary as JSON text.
fn session_files(
    preset: String,
    biometrics: String,
    out_dir: PathBuf,
    seconds: Option<f64>,
    seed: u64,
    sample_rate: u32,
    overwrite: bool,
) -> PyResult<String> {
    check_rate(sample_rate).map_err(bad)?;
    let preset = load_preset(&preset).map_err(bad)?;
    let duration = match seconds {
        Some(s) => check_seconds(s).map_err(bad)?,
        None => preset.duration,
    };
    std::fs::create_dir_all(&out_dir)
        .map_err(|e| bad(format!("out_dir: {}: {e}", out_dir.display())))?;
    let wav = out_dir.join("session.wav");
    let log = out_dir.join("session.jsonl");
    output::check(&wav, Existing::from_force(overwrite)).map_err(bad)?;
    let options = AdaptiveOptions {
        log: Some(log.clone()),
        report: Some(out_dir.clone()),
        force: overwrite,
        ..Default::default()
    };
    let plan = offline_plan(&preset, duration, seed, None, Some(&biometrics), options)?;
    let (session, mut end) = plan.offline(sample_rate).map_err(session_err)?;
    let mut sink = WavSink::create(&wav, sample_rate, SampleFormat::F32)
        .map_err(|e| PyRuntimeError::new_err(e.to_string()))?;
    let started = Instant::now();
    let stop = AtomicBool::new(false);
    let outcome = session
        .render(|buf| sink.write(buf), &stop, |_, _| {})
        .map_err(|e| PyRuntimeError::new_err(format!("{}: {e}", wav.display())))?;
    let files = sink
        .finish()
        .map_err(|e| PyRuntimeError::new_err(format!("{}: {e}", wav.display())))?;
    let render_s = started.elapsed().as_secs_f64();
    let sr = sample_rate as f64;
    let o = end.outcome();
    if let Some(o) = &o {
        if o.input_items == 0 {
            return Err(bad(format!(
                "biometrics: {biometrics}: no usable readings ({} rejected, {} ignored): nothing steered the session; {} lists the rejected rows",
                o.input_rejected,
                o.input_ignored,
                log.display()
            )));
        }
        if let Some(e) = &o.log_error {
            return Err(PyRuntimeError::new_err(format!(
                "{}: the session log could not be written: {e}",
                log.display()
            )));
        }
    }
    end.set_report_wav(files.first().cloned());
    let ended = end.finish(outcome.frames as f64 / sr);
    let (report, summary) = match ended.report {
        Some(Ok(r)) => (
            Json::String(r.dir.join("report.html").display().to_string()),
            serde_json::to_value(&r.summary).unwrap_or(Json::Null),
        ),
        Some(Err(e)) => {
            return Err(PyRuntimeError::new_err(format!(
                "the report was not written: {e}"
            )))
        }
        None => (Json::Null, Json::Null),
    };
    let m = &outcome.meter;
    let v = json!({
        "preset": preset.name,
        "biometrics": biometrics,
        "seed": seed,
        "sample_rate": sample_rate,
        "frames": outcome.frames,
        "seconds": outcome.frames as f64 / sr,
        "render_s": render_s,
        "rms_dbfs": m.rms_dbfs(),
        "peak_dbfs": m.peak_dbfs(),
        "wav": files.iter().map(|f| f.display().to_string()).collect::<Vec<_>>(),
        "log": log.display().to_string(),
        "report": report,
        "outcome": o.as_ref().map(outcome_json),
        "notes": ended.notes,
        "summary": summary,
    });
    Ok(v.to_string())
}

fn outcome_json(o: &isochord_engine::session::SessionOutcome) -> Json {
    json!({
        "arousal_start": o.arousal_start,
        "arousal_end": o.arousal_end,
        "usable_estimates": o.usable_estimates.0,
        "estimates": o.usable_estimates.1,
        "escalations": o.escalations,
        "events": o.events,
        "breath_baseline": o.breath_baseline,
        "allowance_used": o.allowance_used,
        "leq_db": o.leq_db,
        "input_items": o.input_items,
        "input_rejected": o.input_rejected,
        "input_ignored": o.input_ignored,
        "log_error": o.log_error,
    })
}

/// render_session(preset, biometrics, out_dir, seconds, seed, sample_rate, overwrite) ->
/// JSON text of the session's summary. See `isochord.render_session`.
#[pyfunction]
#[pyo3(signature = (preset, biometrics, out_dir, seconds=None, seed=1, sample_rate=48_000, overwrite=false))]
#[allow(clippy::too_many_arguments)]
fn render_session(
    py: Python<'_>,
    preset: String,
    biometrics: PathBuf,
    out_dir: PathBuf,
    seconds: Option<f64>,
    seed: u64,
    sample_rate: u32,
    overwrite: bool,
) -> PyResult<String> {
    let biometrics = biometrics.to_string_lossy().into_owned();
    py.detach(move || {
        session_files(
            preset,
            biometrics,
            out_dir,
            seconds,
            seed,
            sample_rate,
            overwrite,
        )
    })
}

/// The built-in presets' names.
#[pyfunction]
fn presets() -> Vec<String> {
    isochord_engine::preset::BUILTIN
        .iter()
        .map(|(n, _)| n.to_string())
        .collect()
}

/// The TOML text of the built-in preset `name`.
#[pyfunction]
fn preset_toml(name: &str) -> PyResult<String> {
    Preset::builtin_text(name)
        .map(str::to_string)
        .ok_or_else(|| {
            bad(format!(
                "name: no built-in preset {name:?} (built-in presets: {})",
                presets().join(", ")
            ))
        })
}

/// The feature table: column names, one row per window (`None` where not measured), and
/// the count of items the source rejected.
type FeatureTable = (Vec<String>, Vec<Vec<Option<f64>>>, usize);

/// Feature table of a recording file or of arrays: (columns, rows, rejected items).
#[pyfunction]
#[pyo3(signature = (path=None, format=None, rate=None, rr_ms=None, eda=None, fs=None, window=60.0, hop=5.0, baseline_from=None, baseline_to=None))]
#[allow(clippy::too_many_arguments)]
fn features(
    py: Python<'_>,
    path: Option<PathBuf>,
    format: Option<String>,
    rate: Option<f64>,
    rr_ms: Option<Vec<f64>>,
    eda: Option<Vec<f64>>,
    fs: Option<f64>,
    window: f64,
    hop: f64,
    baseline_from: Option<f64>,
    baseline_to: Option<f64>,
) -> PyResult<FeatureTable> {
    if !(window.is_finite() && hop.is_finite() && window > 0.0 && hop > 0.0 && hop <= window) {
        return Err(bad(format!(
            "window and hop: give positive seconds with hop ≤ window (got window {window}, hop {hop})"
        )));
    }
    let baseline = match (baseline_from, baseline_to) {
        (None, None) => None,
        (from, to) => {
            let default = BaselineConfig::default();
            let from = from.unwrap_or(0.0);
            let to = to.unwrap_or(from + default.duration_s);
            if !(from.is_finite() && to.is_finite() && from >= 0.0 && to > from) {
                return Err(bad(format!(
                    "baseline_from and baseline_to: give 0 ≤ baseline_from < baseline_to (got {from} to {to})"
                )));
            }
            Some(Baseline::new(
                BaselineConfig {
                    duration_s: to - from,
                    ..default
                },
                from,
            ))
        }
    };
    let config = FeatureConfig {
        window_s: window,
        hop_s: hop,
        ..FeatureConfig::default()
    };
    let mut source = match (&path, rr_ms.is_some() || eda.is_some()) {
        (Some(_), true) => {
            return Err(bad(
                "path and rr_ms/eda: give a recording path or arrays, not both",
            ))
        }
        (None, false) => return Err(bad("give path (a recording) or rr_ms and/or eda (arrays)")),
        (Some(p), false) => {
            let format = match format.as_deref() {
                None => RecordingFormat::guess(p),
                Some(name) => RecordingFormat::from_name(name).ok_or_else(|| {
                    bad(format!(
                        "format: {name:?} is not one of csv, jsonl, e4, ecg, ppg, wfdb"
                    ))
                })?,
            };
            recording::open(p, format, rate).map_err(bad)?.0
        }
        (None, true) => Box::new(arrays_source(rr_ms.as_deref(), eda.as_deref(), fs)?)
            as Box<dyn isochord_engine::biometrics::sources::Source>,
    };
    let (rows, issues) = py.detach(move || {
        let mut rows = Vec::new();
        let issues = recording::extract::<std::convert::Infallible>(
            source.as_mut(),
            config,
            baseline,
            |w| {
                rows.push(recording::window_values(&w));
                Ok(())
            },
            |_| {},
        );
        (rows, issues)
    });
    let issues = issues.map_err(bad)?;
    Ok((recording::window_columns(), rows, issues))
}

/// Readings from arrays: RR intervals (ms, each ending at the running sum of the
/// intervals) and skin conductance (µS) sampled at `fs` Hz, merged in time order.
fn arrays_source(
    rr_ms: Option<&[f64]>,
    eda: Option<&[f64]>,
    fs: Option<f64>,
) -> PyResult<VecSource> {
    let mut data: Vec<SensorData> = Vec::new();
    if let Some(rr) = rr_ms {
        let mut t = 0.0;
        for (i, &ms) in rr.iter().enumerate() {
            if !(ms.is_finite() && ms > 0.0) {
                return Err(bad(format!(
                    "rr_ms[{i}]: {ms} is not a positive interval in milliseconds"
                )));
            }
            t += ms / 1000.0;
            data.push(SensorData::Reading(Reading {
                time: t,
                value: Value::Rr(ms as f32),
            }));
        }
    }
    if let Some(eda) = eda {
        let fs = fs.ok_or_else(|| bad("fs: give the sample rate (Hz) of eda"))?;
        if !(fs.is_finite() && fs > 0.0) {
            return Err(bad(format!("fs: {fs} Hz is not a positive sample rate")));
        }
        for (i, &us) in eda.iter().enumerate() {
            if !us.is_finite() {
                return Err(bad(format!("eda[{i}]: {us} is not a finite value in µS")));
            }
            data.push(SensorData::Reading(Reading {
                time: i as f64 / fs,
                value: Value::Eda(us as f32),
            }));
        }
    }
    let time = |d: &SensorData| match d {
        SensorData::Reading(r) => r.time,
        _ => 0.0,
    };
    data.sort_by(|a, b| time(a).total_cmp(&time(b)));
    Ok(VecSource::from_data("arrays", data))
}

/// The session log at `path` (or `path`/session.jsonl for a report folder).
fn log_path(path: &Path) -> PathBuf {
    if path.is_dir() {
        path.join("session.jsonl")
    } else {
        path.to_path_buf()
    }
}

/// Reads and checks a session log: (second records as JSON objects, header, summary,
/// decisions), all as JSON text.
#[pyfunction]
fn read_log(py: Python<'_>, path: PathBuf) -> PyResult<String> {
    py.detach(move || {
        let path = log_path(&path);
        let data = read::read_log(&path).map_err(bad)?;
        // the checked log's second records, in their typed form
        let text =
            std::fs::read_to_string(&path).map_err(|e| bad(format!("{}: {e}", path.display())))?;
        let mut seconds = Vec::with_capacity(data.rows.len());
        for (i, line) in text.lines().enumerate() {
            if seconds.len() == data.rows.len() {
                break;
            }
            let Ok(Json::Object(rec)) = serde_json::from_str::<Json>(line) else {
                continue;
            };
            if rec.get("record").and_then(Json::as_str) != Some(SECOND) {
                continue;
            }
            let r = timeline::parse_second(&rec)
                .map_err(|e| bad(format!("{}:{}: {e}", path.display(), i + 1)))?;
            let mut v = record_line(SECOND, &r);
            if let Json::Object(m) = &mut v {
                m.remove("record");
            }
            seconds.push(v);
        }
        let v = json!({
            "seconds": seconds,
            "header": serde_json::to_value(&data.header).unwrap_or(Json::Null),
            "summary": data.summary.as_ref().map(|s| serde_json::to_value(s).unwrap_or(Json::Null)),
            "decisions": data.decisions.iter().map(|d| json!({
                "time": d.time, "kind": d.kind, "message": d.message, "review": d.review,
            })).collect::<Vec<_>>(),
            "partial": data.partial_reason(),
        });
        Ok(v.to_string())
    })
}

/// The per-second timeline of a session log (or report folder), as the report's
/// `timeline.csv` text.
#[pyfunction]
fn read_timeline(py: Python<'_>, path: PathBuf) -> PyResult<String> {
    py.detach(move || {
        let path = log_path(&path);
        let data = read::read_log(&path).map_err(bad)?;
        Ok(timeline::to_csv(&data.rows))
    })
}

/// A session rendered in the caller's loop: see `isochord.Session`.
#[pyclass(module = "isochord._isochord")]
struct Session {
    /// The audio side: [`Session::render`] only.
    audio: Mutex<Option<SessionAudio>>,
    control: Mutex<Control>,
    sample_rate: u32,
}

struct Control {
    session: Option<LiveSession>,
    /// The session's updates, readable after it has ended.
    updates: crossbeam_channel::Receiver<Update>,
    adaptive: bool,
    preset: String,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

fn summary_json(s: &LiveSummary) -> Json {
    let report = match &s.ended.report {
        None => Json::Null,
        Some(Ok(r)) => json!({
            "dir": r.dir.display().to_string(),
            "html": r.dir.join("report.html").display().to_string(),
            "notes": r.notes,
        }),
        Some(Err(e)) => json!({ "error": e.to_string() }),
    };
    json!({
        "completed": s.end == End::Completed,
        "frames": s.frames,
        "sample_rate": s.sample_rate,
        "seconds": s.seconds,
        "late_ticks": s.late_ticks,
        "rms_dbfs": s.level.rms_dbfs(),
        "peak_dbfs": s.level.peak_dbfs(),
        "outcome": s.ended.outcome.as_ref().map(outcome_json),
        "notes": s.ended.notes,
        "report": report,
    })
}

#[pymethods]
impl Session {
    #[new]
    #[pyo3(signature = (preset, seconds=600.0, sample_rate=48_000, seed=1, biometrics=Some("pushed".to_string()), pacing="live", log=None, report=None, overwrite=false))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        preset: String,
        seconds: f64,
        sample_rate: u32,
        seed: u64,
        biometrics: Option<String>,
        pacing: &str,
        log: Option<PathBuf>,
        report: Option<PathBuf>,
        overwrite: bool,
    ) -> PyResult<Session> {
        check_rate(sample_rate).map_err(bad)?;
        let duration = check_seconds(seconds).map_err(bad)?;
        let preset = load_preset(&preset).map_err(bad)?;
        let pacing = match pacing {
            "live" => Pacing::Live,
            "recorded" => Pacing::Recorded,
            other => {
                return Err(bad(format!(
                    "pacing: {other:?} is not \"live\" or \"recorded\""
                )))
            }
        };
        let plan = match biometrics.as_deref() {
            None => {
                if log.is_some() || report.is_some() {
                    return Err(bad(
                        "log and report: only adaptive sessions (biometrics=\"pushed\" or a source) write them",
                    ));
                }
                SessionPlan::fixed(&preset, duration, seed)
            }
            Some(spec) => {
                let input = if spec == "pushed" {
                    Input::Pushed {
                        info: SourceInfo {
                            name: "python".into(),
                            format: "app",
                            simulated: false,
                            live: true,
                        },
                        pacing,
                    }
                } else {
                    Input::parse(spec).map_err(|e| bad(format!("biometrics: {e}")))?
                };
                let options = AdaptiveOptions {
                    log,
                    report,
                    force: overwrite,
                    ..Default::default()
                };
                SessionPlan::adaptive(&preset, duration, seed, input, &options)
                    .map_err(session_err)?
            }
        };
        let adaptive = plan.is_adaptive();
        let plan = plan.with_content(Some(ContentLibrary::bundled()));
        let (session, audio) =
            LiveSession::with_host_audio(plan, sample_rate).map_err(session_err)?;
        Ok(Session {
            audio: Mutex::new(Some(audio)),
            control: Mutex::new(Control {
                updates: session.updates().clone(),
                session: Some(session),
                adaptive: adaptive && biometrics.as_deref() == Some("pushed"),
                preset: preset.name,
            }),
            sample_rate,
        })
    }

    /// Output sample rate, Hz.
    #[getter]
    fn sample_rate(&self) -> u32 {
        self.sample_rate
    }

    /// The preset's name.
    #[getter]
    fn preset(&self) -> String {
        lock(&self.control).preset.clone()
    }

    /// Session time, seconds: frames rendered over the sample rate.
    #[getter]
    fn time(&self) -> f64 {
        lock(&self.control)
            .session
            .as_ref()
            .map_or(0.0, |s| s.time())
    }

    /// Whether [`Session::end`] was called.
    #[getter]
    fn ended(&self) -> bool {
        lock(&self.control).session.is_none()
    }

    /// Whether the whole session has been rendered (true once ended).
    #[getter]
    fn finished(&self) -> bool {
        lock(&self.audio).as_ref().is_none_or(|a| a.is_finished())
    }

    /// Renders up to `frames` frames (GIL released): float32 array (n, 2), shorter only
    /// at the session's end. Waits for each control tick's decisions, so the sound does
    /// not depend on timing.
    #[pyo3(signature = (frames, timeout=30.0))]
    fn render<'py>(
        &self,
        py: Python<'py>,
        frames: usize,
        timeout: f64,
    ) -> PyResult<Bound<'py, PyArray2<f32>>> {
        if frames > 192_000 * 3600 {
            return Err(bad(format!(
                "frames: {frames} is more than an hour at 192 kHz"
            )));
        }
        let timeout = Duration::from_secs_f64(timeout.clamp(0.0, 86_400.0));
        let out = py.detach(|| -> Result<Vec<f32>, String> {
            let mut audio = lock(&self.audio);
            let mut buf = vec![0.0f32; 2 * frames];
            let Some(a) = audio.as_mut() else {
                return Ok(Vec::new());
            };
            let mut pos = 0;
            let mut last = Instant::now();
            while pos < buf.len() && !a.is_finished() {
                let n = a.render_ready(&mut buf[pos..]);
                if n > 0 {
                    pos += n;
                    last = Instant::now();
                } else if last.elapsed() > timeout {
                    return Err(format!(
                        "no control tick decided in {:.0} s at {:.1} s of the session: with pacing=\"recorded\", push readings beyond that time or call close_input()",
                        timeout.as_secs_f64(),
                        a.frames() as f64 / self.sample_rate as f64
                    ));
                } else {
                    std::thread::sleep(Duration::from_micros(200));
                }
            }
            buf.truncate(pos);
            Ok(buf)
        });
        let out = out.map_err(PyTimeoutError::new_err)?;
        let n = out.len() / 2;
        let a = Array2::from_shape_vec((n, 2), out)
            .map_err(|e| PyRuntimeError::new_err(e.to_string()))?;
        Ok(a.into_pyarray(py))
    }

    /// Pushes a reading of `kind` measured at `t` seconds of session time.
    fn push(&self, kind: &str, t: f64, value: f64) -> PyResult<()> {
        let c = lock(&self.control);
        if !c.adaptive {
            return Err(bad(
                "push: this session takes no pushed readings (create it with biometrics=\"pushed\")",
            ));
        }
        if !(t.is_finite() && t >= 0.0) {
            return Err(bad(format!("t: {t} is not a session time ≥ 0 seconds")));
        }
        if !value.is_finite() {
            return Err(bad(format!("value: {value} is not finite")));
        }
        let v = value as f32;
        let value = match kind {
            "hr" | "heart_rate" => Value::HeartRate(v),
            "rr" | "rr_ms" => Value::Rr(v),
            "eda" | "eda_us" => Value::Eda(v),
            "resp_rate" => Value::RespRate(v),
            "resp" => Value::Resp(v),
            "temp" | "temperature" => Value::Temp(v),
            "contact_lost" => Value::ContactLost,
            other => {
                return Err(bad(format!(
                "kind: {other:?} is not one of hr, rr_ms, eda, resp_rate, resp, temp, contact_lost"
            )))
            }
        };
        let s = c
            .session
            .as_ref()
            .ok_or_else(|| bad("push: the session has ended"))?;
        if s.push(SensorData::Reading(Reading { time: t, value })) {
            Ok(())
        } else {
            Err(bad("push: the input was closed or the session has ended"))
        }
    }

    /// Sets parameter `name` to `value` (clamped into its range) at the next tick.
    fn set_param(&self, name: &str, value: f32) -> PyResult<()> {
        let Some(param) = Param::from_name(name) else {
            let names: Vec<&str> = Param::ALL.iter().map(|p| p.name()).collect();
            return Err(bad(format!(
                "name: unknown parameter {name:?} (one of {})",
                names.join(", ")
            )));
        };
        if !value.is_finite() {
            return Err(bad(format!("value: {value} is not finite")));
        }
        let c = lock(&self.control);
        let s = c
            .session
            .as_ref()
            .ok_or_else(|| bad("set_param: the session has ended"))?;
        if s.set_param(param, value) {
            Ok(())
        } else {
            Err(bad("set_param: the session has ended"))
        }
    }

    /// Closes the pushed input.
    fn close_input(&self) -> PyResult<()> {
        let mut c = lock(&self.control);
        let s = c
            .session
            .as_mut()
            .ok_or_else(|| bad("close_input: the session has ended"))?;
        s.close_input();
        Ok(())
    }

    /// Asks the session to fade out over 2 s and end early.
    fn stop(&self) -> PyResult<()> {
        let c = lock(&self.control);
        let s = c
            .session
            .as_ref()
            .ok_or_else(|| bad("stop: the session has ended"))?;
        s.stop();
        Ok(())
    }

    /// The events since the last call, as JSON text (a list of objects).
    fn events(&self) -> String {
        let c = lock(&self.control);
        let mut out = Vec::new();
        while let Ok(u) = c.updates.try_recv() {
            match u {
                Update::Event(e) => {
                    if let Ok(v) = serde_json::to_value(&e) {
                        out.push(v);
                    }
                }
                Update::FadeOut {
                    reason,
                    at_s,
                    seconds,
                } => out.push(json!({
                    "time": at_s,
                    "kind": "fade_out",
                    "message": format!("fading out over {seconds:.1} s ({})", reason.name()),
                    "review": false,
                })),
                _ => {}
            }
        }
        Json::Array(out).to_string()
    }

    /// Ends the session (stops it if it is still playing), writes the log's last
    /// records and the report; returns the summary as JSON text.
    fn end(&self, py: Python<'_>) -> PyResult<String> {
        py.detach(|| {
            let mut c = lock(&self.control);
            let s = c
                .session
                .take()
                .ok_or_else(|| bad("end: the session has already ended"))?;
            let audio = lock(&self.audio).take();
            if audio.as_ref().is_some_and(|a| !a.is_finished()) {
                s.stop();
            }
            // the control thread ends once the audio side is gone
            drop(audio);
            let sum = s.finish().map_err(session_err)?;
            if let Some(Err(e)) = &sum.ended.report {
                return Err(PyRuntimeError::new_err(format!(
                    "the report was not written: {e}"
                )));
            }
            if let Some(e) = sum.ended.outcome.as_ref().and_then(|o| o.log_error.clone()) {
                return Err(PyRuntimeError::new_err(format!(
                    "the log was not written whole: {e}"
                )));
            }
            Ok(summary_json(&sum).to_string())
        })
    }
}

impl Drop for Session {
    /// A session dropped without `end()` is stopped and its control thread joined (the
    /// log and report are still written).
    fn drop(&mut self) {
        let c = self.control.get_mut().unwrap_or_else(|p| p.into_inner());
        if let Some(s) = c.session.take() {
            s.stop();
            drop(
                self.audio
                    .get_mut()
                    .unwrap_or_else(|p| p.into_inner())
                    .take(),
            );
            let _ = s.finish();
        }
    }
}

/// The native module.
#[pymodule]
fn _isochord(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("IsochordError", m.py().get_type::<IsochordError>())?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add_function(wrap_pyfunction!(render, m)?)?;
    m.add_function(wrap_pyfunction!(render_session, m)?)?;
    m.add_function(wrap_pyfunction!(presets, m)?)?;
    m.add_function(wrap_pyfunction!(preset_toml, m)?)?;
    m.add_function(wrap_pyfunction!(features, m)?)?;
    m.add_function(wrap_pyfunction!(read_log, m)?)?;
    m.add_function(wrap_pyfunction!(read_timeline, m)?)?;
    m.add_class::<Session>()?;
    Ok(())
}
