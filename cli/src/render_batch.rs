//! `isochord render-batch`: every recording in a folder (each sub-folder an E4 export, each
//! `.csv` / `.jsonl` file a recording) rendered as an adaptive session with its WAV and
//! report, in parallel on all cores; an index.html links the reports and summaries.csv
//! holds one line per recording. A recording that fails is reported and skipped.

use crate::Failure;
use clap::Args;
use isochord_engine::parse_duration;
use rayon::prelude::*;
use serde_json::Value as Json;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::{Duration, Instant};

#[derive(Args)]
pub struct BatchArgs {
    /// Folder of recordings: E4 export sub-folders and/or .csv / .jsonl files.
    dir: PathBuf,
    /// Built-in preset or path to a preset .toml.
    #[arg(long, short)]
    preset: String,
    /// Output folder: one sub-folder per recording, index.html, summaries.csv.
    #[arg(long, short)]
    out: PathBuf,
    /// Session length (default: the preset's).
    #[arg(long, short, value_parser = parse_duration)]
    duration: Option<Duration>,
    /// Output sample rate, Hz.
    #[arg(long, default_value_t = 48_000)]
    sample_rate: u32,
    /// Seed for every session.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Sessions rendered at once (default: one per core).
    #[arg(long, short)]
    jobs: Option<usize>,
    /// Print nothing but errors and the final line.
    #[arg(long, short)]
    quiet: bool,
    /// Replace each session's WAV and log where they already exist (without it, such a
    /// session fails).
    #[arg(long)]
    force: bool,
    /// FHIR code system (a URI) of each report's measures without a LOINC code and of its
    /// session procedure (default: urn:uuid:fcb19ff6-fa03-44b7-99d6-4ee42138e4ee).
    #[arg(long, value_name = "URI")]
    fhir_code_system: Option<String>,
}

struct Outcome {
    name: String,
    result: Result<Json, String>,
    seconds: f64,
}

fn recordings(dir: &Path) -> Result<Vec<PathBuf>, String> {
    let rd = std::fs::read_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let mut out: Vec<PathBuf> = rd
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| {
            p.is_dir()
                || p.extension().is_some_and(|x| {
                    x.eq_ignore_ascii_case("csv") || x.eq_ignore_ascii_case("jsonl")
                })
        })
        .collect();
    out.sort();
    Ok(out)
}

fn render_one(exe: &Path, rec: &Path, out: &Path, a: &BatchArgs) -> Result<Json, String> {
    std::fs::create_dir_all(out).map_err(|e| format!("{}: {e}", out.display()))?;
    let mut cmd = Command::new(exe);
    cmd.arg("render")
        .arg("--preset")
        .arg(&a.preset)
        .arg("--biometrics")
        .arg(rec)
        .arg("--out")
        .arg(out.join("session.wav"))
        .arg("--report")
        .arg(out)
        .arg("--sample-rate")
        .arg(a.sample_rate.to_string())
        .arg("--seed")
        .arg(a.seed.to_string())
        .arg("--quiet");
    if a.force {
        cmd.arg("--force");
    }
    if let Some(system) = &a.fhir_code_system {
        cmd.arg("--fhir-code-system").arg(system);
    }
    if let Some(d) = a.duration {
        cmd.arg("--duration").arg(format!("{}s", d.as_secs_f64()));
    }
    let o = cmd
        .output()
        .map_err(|e| format!("cannot start {}: {e}", exe.display()))?;
    if !o.status.success() {
        let err = String::from_utf8_lossy(&o.stderr);
        let msg = err
            .lines()
            .rev()
            .find(|l| !l.trim().is_empty())
            .unwrap_or("failed without a message")
            .to_string();
        return Err(msg);
    }
    let p = out.join("summary.json");
    let text = std::fs::read_to_string(&p).map_err(|e| format!("{}: {e}", p.display()))?;
    let summary: Json = serde_json::from_str(&text).map_err(|e| format!("{}: {e}", p.display()))?;
    // a session that never had data was not steered by the recording: not a result
    let loss = summary
        .pointer("/signal_quality/data_loss_fraction")
        .and_then(Json::as_f64);
    if loss.is_some_and(|l| l >= 1.0) {
        return Err(format!(
            "{}: no usable data in the whole session (data loss 1.0)",
            rec.display()
        ));
    }
    Ok(summary)
}

/// Columns of summaries.csv after `recording,status,error,render_s`: JSON pointers into
/// summary.json.
const FIELDS: &[(&str, &str)] = &[
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
];

fn csv_cell(s: &str) -> String {
    if s.contains([',', '"', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\"").replace('\n', " "))
    } else {
        s.to_string()
    }
}

fn esc(s: &str) -> String {
    isochord_engine::report::html::esc(s)
}

pub fn run(args: BatchArgs) -> Result<ExitCode, Failure> {
    let recs = recordings(&args.dir).map_err(Failure::input)?;
    if recs.is_empty() {
        return Err(Failure::input(format!(
            "{}: no recordings (sub-folders or .csv / .jsonl files)",
            args.dir.display()
        )));
    }
    std::fs::create_dir_all(&args.out)
        .map_err(|e| Failure::runtime(format!("{}: {e}", args.out.display())))?;
    let exe = std::env::current_exe().map_err(Failure::runtime)?;
    let jobs = args.jobs.unwrap_or(0);
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(jobs)
        .build()
        .map_err(Failure::runtime)?;
    let started = Instant::now();
    let mut outcomes: Vec<Outcome> = pool.install(|| {
        recs.par_iter()
            .map(|rec| {
                let name = rec
                    .file_stem()
                    .map_or("recording".into(), |s| s.to_string_lossy().into_owned());
                let t = Instant::now();
                let result = render_one(&exe, rec, &args.out.join(&name), &args);
                let seconds = t.elapsed().as_secs_f64();
                match &result {
                    Ok(_) if !args.quiet => eprintln!("done: {name} ({seconds:.1} s)"),
                    Err(e) => eprintln!("failed: {name}: {e} (skipped)"),
                    _ => {}
                }
                Outcome {
                    name,
                    result,
                    seconds,
                }
            })
            .collect()
    });
    outcomes.sort_by(|a, b| a.name.cmp(&b.name));
    let elapsed = started.elapsed().as_secs_f64();

    let mut csv = String::from("recording,status,error,render_s");
    for (k, _) in FIELDS {
        csv.push(',');
        csv.push_str(k);
    }
    csv.push('\n');
    let mut rows = String::new();
    for o in &outcomes {
        let (status, err) = match &o.result {
            Ok(_) => ("ok", String::new()),
            Err(e) => ("failed", e.clone()),
        };
        let _ = write!(
            csv,
            "{},{status},{},{:.2}",
            csv_cell(&o.name),
            csv_cell(&err),
            o.seconds
        );
        let _ = write!(rows, "<tr><td>");
        match &o.result {
            Ok(s) => {
                let _ = write!(
                    rows,
                    "<a href=\"{0}/report.html\">{1}</a>",
                    esc(&o.name),
                    esc(&o.name)
                );
                for (_, ptr) in FIELDS {
                    let v = s.pointer(ptr).filter(|v| !v.is_null());
                    let cell = v.map_or(String::new(), |v| match v {
                        Json::String(t) => t.clone(),
                        other => other.to_string(),
                    });
                    let _ = write!(csv, ",{}", csv_cell(&cell));
                }
                let _ =
                    write!(
                    rows,
                    "</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                    if s["session"]["partial"] == true { "partial" } else { "complete" },
                    s["heart_rate_bpm"]["baseline"],
                    s["heart_rate_bpm"]["closing"],
                    s["arousal"]["baseline"],
                    s["arousal"]["closing"],
                    s["escalations"]["count"]
                );
            }
            Err(e) => {
                for _ in FIELDS {
                    csv.push(',');
                }
                let _ = write!(
                    rows,
                    "{}</td><td colspan=\"6\">failed: {}</td></tr>",
                    esc(&o.name),
                    esc(e)
                );
            }
        }
        csv.push('\n');
    }
    let write = |name: &str, text: &str| {
        let p = args.out.join(name);
        std::fs::write(&p, text).map_err(|e| Failure::runtime(format!("{}: {e}", p.display())))
    };
    write("summaries.csv", &csv)?;
    let ok = outcomes.iter().filter(|o| o.result.is_ok()).count();
    let index = format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Isochord batch: {n} sessions</title>\
<style>body{{font-family:sans-serif;margin:1.5em auto;max-width:1000px}}table{{border-collapse:collapse}}th,td{{border:1px solid #ccc;padding:.25em .6em}}</style></head><body>\n\
<h1>Batch of {n} recordings, preset {preset}</h1>\n<p>{ok} rendered, {failed} failed; all figures in <a href=\"summaries.csv\">summaries.csv</a>. \
Not a diagnostic device: see each report.</p>\n<table><tr><th>recording</th><th>session</th><th>HR baseline</th><th>HR closing</th><th>arousal baseline</th><th>arousal closing</th><th>escalations</th></tr>\n{rows}</table>\n</body></html>\n",
        n = outcomes.len(),
        preset = esc(&args.preset),
        failed = outcomes.len() - ok,
    );
    write("index.html", &index)?;
    println!(
        "batch: {ok} of {} sessions rendered in {elapsed:.1} s ({:.1} sessions/min) → {}",
        outcomes.len(),
        ok as f64 * 60.0 / elapsed.max(1e-9),
        args.out.join("index.html").display()
    );
    Ok(if ok == outcomes.len() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
