//! `isochord render-batch`: every recording in a folder (each sub-folder an E4 export, each
//! `.csv` / `.jsonl` file a recording) rendered as an adaptive session with its WAV and
//! report, in parallel on all cores; an index.html links the reports and summaries.csv
//! holds one line per recording. A recording that fails is reported and skipped.
//!
//! With `--shard K/N` (or an array task's environment) it renders only its share and
//! writes `shard-K-of-N.json`; `isochord render-batch-merge OUT` then writes the
//! summaries.csv and index.html of the whole batch (see [`isochord_engine::batch`]).

use crate::Failure;
use clap::Args;
use isochord_engine::batch::{self, Row, Shard, Table};
use isochord_engine::parse_duration;
use rayon::prelude::*;
use serde_json::Value as Json;
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
    /// Render only shard K of N (1-based: 1/4 … 4/4): the recordings at positions K,
    /// K+N, K+2N, … of the folder's sorted list; results go to OUT/shard-K-of-N.json for
    /// `render-batch-merge`. Default: from SLURM_ARRAY_TASK_ID (counted from
    /// SLURM_ARRAY_TASK_MIN, out of SLURM_ARRAY_TASK_COUNT) or Kubernetes'
    /// JOB_COMPLETION_INDEX (0-based, out of --shards).
    #[arg(long, value_name = "K/N", value_parser = Shard::parse)]
    shard: Option<Shard>,
    /// Number of shards, for an array task's index from the environment (needed with
    /// JOB_COMPLETION_INDEX; overrides SLURM_ARRAY_TASK_COUNT).
    #[arg(long, value_name = "N", conflicts_with = "shard", value_parser = clap::value_parser!(u32).range(1..))]
    shards: Option<u32>,
}

#[derive(Args)]
pub struct MergeArgs {
    /// The batch's output folder, holding every shard's shard-K-of-N.json (and the
    /// sessions' folders): summaries.csv and index.html are written there.
    out: PathBuf,
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

pub fn run(args: BatchArgs) -> Result<ExitCode, Failure> {
    let all = batch::recordings(&args.dir).map_err(Failure::input)?;
    if all.is_empty() {
        return Err(Failure::input(format!(
            "{}: no recordings (sub-folders or .csv / .jsonl files)",
            args.dir.display()
        )));
    }
    let shard = match args.shard {
        Some(s) => Some(s),
        None => Shard::from_env(|k| std::env::var(k).ok(), args.shards.map(|n| n as usize))
            .map_err(Failure::input)?,
    };
    if args.shards.is_some() && shard.is_none() {
        return Err(Failure::input(
            "--shards needs an array task's index (SLURM_ARRAY_TASK_ID or JOB_COMPLETION_INDEX); give --shard K/N otherwise",
        ));
    }
    let recs = match shard {
        Some(s) => s.select(&all),
        None => all.clone(),
    };
    std::fs::create_dir_all(&args.out)
        .map_err(|e| Failure::runtime(format!("{}: {e}", args.out.display())))?;
    let exe = std::env::current_exe().map_err(Failure::runtime)?;
    let jobs = args.jobs.unwrap_or(0);
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(jobs)
        .build()
        .map_err(Failure::runtime)?;
    let started = Instant::now();
    let rows: Vec<Row> = pool.install(|| {
        recs.par_iter()
            .map(|rec| {
                let name = batch::recording_name(rec);
                let t = Instant::now();
                let result = render_one(&exe, rec, &args.out.join(&name), &args);
                let seconds = t.elapsed().as_secs_f64();
                match &result {
                    Ok(_) if !args.quiet => eprintln!("done: {name} ({seconds:.1} s)"),
                    Err(e) => eprintln!("failed: {name}: {e} (skipped)"),
                    _ => {}
                }
                match result {
                    Ok(summary) => Row::from_summary(name, &summary, seconds),
                    Err(e) => Row {
                        name,
                        result: Err(e),
                        seconds,
                    },
                }
            })
            .collect()
    });
    let table = Table::new(&args.preset, rows);
    let elapsed = started.elapsed().as_secs_f64();
    let write = |name: &str, text: &str| {
        let p = args.out.join(name);
        std::fs::write(&p, text).map_err(|e| Failure::runtime(format!("{}: {e}", p.display())))
    };
    let ok = table.ok();
    let n = table.rows.len();
    let rate = ok as f64 * 60.0 / elapsed.max(1e-9);
    match shard {
        Some(s) => {
            write(&s.file_name(), &table.shard_json(s, all.len()))?;
            println!(
                "shard {s}: {ok} of {n} sessions rendered in {elapsed:.1} s ({rate:.1} sessions/min) → {}; when every shard is done: isochord render-batch-merge {}",
                args.out.join(s.file_name()).display(),
                args.out.display()
            );
        }
        None => {
            write("summaries.csv", &table.csv())?;
            write("index.html", &table.html())?;
            println!(
                "batch: {ok} of {n} sessions rendered in {elapsed:.1} s ({rate:.1} sessions/min) → {}",
                args.out.join("index.html").display()
            );
        }
    }
    Ok(if ok == n {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// `isochord render-batch-merge OUT`: the shards' results combined into the batch's
/// summaries.csv and index.html, as one machine would have written them.
pub fn merge(args: MergeArgs) -> Result<ExitCode, Failure> {
    let (table, shards) = batch::merge(&args.out).map_err(Failure::input)?;
    for (name, text) in [("summaries.csv", table.csv()), ("index.html", table.html())] {
        let p = args.out.join(name);
        std::fs::write(&p, text).map_err(|e| Failure::runtime(format!("{}: {e}", p.display())))?;
    }
    let ok = table.ok();
    println!(
        "merged {shards} shards: {ok} of {} sessions rendered → {}",
        table.rows.len(),
        args.out.join("index.html").display()
    );
    Ok(if ok == table.rows.len() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
