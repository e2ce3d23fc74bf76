//! Batches of recordings rendered as adaptive sessions: which recordings a folder holds,
//! how they are split into shards for array jobs (Slurm, Kubernetes Indexed Jobs), and the
//! batch's table (`summaries.csv`) and page (`index.html`), written alike whether the
//! batch ran on one machine or as shards merged afterwards.
//!
//! A shard `K/N` is 1-based: shard `K` of `N` takes the recordings at positions
//! `K-1, K-1+N, K-1+2N, …` of the folder's sorted list, so the shards are disjoint, cover
//! everything, and each task can work out its own share without talking to the others.
//! Each shard writes `shard-K-of-N.json` into the output folder; [`merge`] combines them.
//!
//! Everything here runs on the control thread.

use serde_json::{json, Value as Json};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// One shard of a batch: the `index`-th (1-based) of `count`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shard {
    /// 1..=count.
    pub index: usize,
    /// Number of shards, ≥ 1.
    pub count: usize,
}

impl Shard {
    /// The whole batch as one shard.
    pub const WHOLE: Shard = Shard { index: 1, count: 1 };

    /// A shard, checked: `1 <= index <= count`.
    pub fn new(index: usize, count: usize) -> Result<Self, String> {
        if count == 0 {
            return Err("the number of shards must be at least 1".into());
        }
        if index == 0 || index > count {
            return Err(format!(
                "shard {index} of {count}: shards are numbered 1 to {count}"
            ));
        }
        Ok(Self { index, count })
    }

    /// Parses `K/N` (1-based, e.g. `1/4` … `4/4`).
    pub fn parse(s: &str) -> Result<Self, String> {
        let (k, n) = s
            .split_once('/')
            .ok_or_else(|| format!("`{s}` is not a shard: write K/N, e.g. 1/4 (1-based)"))?;
        let num = |t: &str, what: &str| {
            t.trim()
                .parse::<usize>()
                .map_err(|_| format!("`{s}`: the {what} `{t}` is not a whole number"))
        };
        Self::new(num(k, "shard")?, num(n, "shard count")?)
    }

    /// The shard an array task is, from its environment (`var` reads a variable):
    /// Slurm's `SLURM_ARRAY_TASK_ID` counted from `SLURM_ARRAY_TASK_MIN` (0 when unset)
    /// out of `SLURM_ARRAY_TASK_COUNT` (or `count` when given), or Kubernetes'
    /// `JOB_COMPLETION_INDEX` (0-based) out of `count` (which it needs). `None` when
    /// neither is set.
    pub fn from_env(
        var: impl Fn(&str) -> Option<String>,
        count: Option<usize>,
    ) -> Result<Option<Self>, String> {
        let num = |name: &str| -> Result<Option<usize>, String> {
            match var(name) {
                None => Ok(None),
                Some(v) if v.trim().is_empty() => Ok(None),
                Some(v) => v
                    .trim()
                    .parse::<usize>()
                    .map(Some)
                    .map_err(|_| format!("{name}={v} is not a whole number")),
            }
        };
        if let Some(id) = num("SLURM_ARRAY_TASK_ID")? {
            let min = num("SLURM_ARRAY_TASK_MIN")?.unwrap_or(0);
            let n = match (count, num("SLURM_ARRAY_TASK_COUNT")?) {
                (Some(c), _) => c,
                (None, Some(c)) => c,
                (None, None) => return Err(
                    "SLURM_ARRAY_TASK_ID is set but not SLURM_ARRAY_TASK_COUNT: give --shards N"
                        .into(),
                ),
            };
            if id < min {
                return Err(format!(
                    "SLURM_ARRAY_TASK_ID={id} is below SLURM_ARRAY_TASK_MIN={min}"
                ));
            }
            return Self::new(id - min + 1, n)
                .map(Some)
                .map_err(|e| format!("from SLURM_ARRAY_TASK_ID={id}: {e}"));
        }
        if let Some(i) = num("JOB_COMPLETION_INDEX")? {
            let n = count.ok_or(
                "JOB_COMPLETION_INDEX is set: give the number of shards with --shards N (the Job's completions)",
            )?;
            return Self::new(i + 1, n)
                .map(Some)
                .map_err(|e| format!("from JOB_COMPLETION_INDEX={i}: {e}"));
        }
        Ok(None)
    }

    /// Whether the recording at `position` (0-based, in sorted order) is this shard's.
    pub fn takes(&self, position: usize) -> bool {
        position % self.count == self.index - 1
    }

    /// This shard's share of `items` (in sorted order).
    pub fn select<T: Clone>(&self, items: &[T]) -> Vec<T> {
        items
            .iter()
            .enumerate()
            .filter(|(i, _)| self.takes(*i))
            .map(|(_, t)| t.clone())
            .collect()
    }

    /// The file a shard's results go to: `shard-K-of-N.json`.
    pub fn file_name(&self) -> String {
        format!("shard-{}-of-{}.json", self.index, self.count)
    }
}

impl std::fmt::Display for Shard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

/// The recordings in `dir`: sub-folders (E4 exports) and `.csv` / `.jsonl` files, sorted.
pub fn recordings(dir: &Path) -> Result<Vec<PathBuf>, String> {
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

/// The name a recording's outputs go under (its file stem).
pub fn recording_name(rec: &Path) -> String {
    rec.file_stem()
        .map_or("recording".into(), |s| s.to_string_lossy().into_owned())
}

/// Columns of summaries.csv after `recording,status,error,render_s`: JSON pointers into
/// each session's summary.json.
pub const FIELDS: &[(&str, &str)] = &[
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

/// One recording's line in the batch table.
#[derive(Clone, Debug, PartialEq)]
pub struct Row {
    /// The recording's name (its outputs are in a folder of that name).
    pub name: String,
    /// `Ok(cells)`: one per [`FIELDS`] entry (empty where the summary has none);
    /// `Err(message)`: why it failed.
    pub result: Result<Vec<String>, String>,
    /// Wall-clock seconds its render took.
    pub seconds: f64,
}

impl Row {
    /// A rendered session's row, its cells read from its summary.json.
    pub fn from_summary(name: String, summary: &Json, seconds: f64) -> Self {
        let cells = FIELDS
            .iter()
            .map(|(_, ptr)| {
                summary
                    .pointer(ptr)
                    .filter(|v| !v.is_null())
                    .map_or(String::new(), |v| match v {
                        Json::String(t) => t.clone(),
                        other => other.to_string(),
                    })
            })
            .collect();
        Self {
            name,
            result: Ok(cells),
            seconds,
        }
    }

    fn cell(&self, key: &str) -> &str {
        let Ok(cells) = &self.result else { return "" };
        FIELDS
            .iter()
            .position(|(k, _)| *k == key)
            .and_then(|i| cells.get(i))
            .map_or("", String::as_str)
    }

    fn to_json(&self) -> Json {
        match &self.result {
            Ok(cells) => json!({"name": self.name, "cells": cells, "seconds": self.seconds}),
            Err(e) => json!({"name": self.name, "error": e, "seconds": self.seconds}),
        }
    }

    fn from_json(v: &Json) -> Option<Self> {
        let name = v.get("name")?.as_str()?.to_string();
        let seconds = v.get("seconds")?.as_f64()?;
        let result = match (v.get("cells"), v.get("error")) {
            (Some(Json::Array(c)), _) => Ok(c
                .iter()
                .map(|x| x.as_str().map(str::to_string))
                .collect::<Option<Vec<_>>>()?),
            (_, Some(Json::String(e))) => Err(e.clone()),
            _ => return None,
        };
        if result.as_ref().is_ok_and(|c| c.len() != FIELDS.len()) {
            return None;
        }
        Some(Self {
            name,
            result,
            seconds,
        })
    }
}

fn csv_cell(s: &str) -> String {
    if s.contains([',', '"', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\"").replace('\n', " "))
    } else {
        s.to_string()
    }
}

fn esc(s: &str) -> String {
    crate::report::html::esc(s)
}

/// A batch's results: the preset and one row per recording, sorted by name.
#[derive(Clone, Debug, PartialEq)]
pub struct Table {
    /// The preset every session used (as given on the command line).
    pub preset: String,
    /// The rows, sorted by name.
    pub rows: Vec<Row>,
}

impl Table {
    /// A table of `rows` (sorted here).
    pub fn new(preset: &str, mut rows: Vec<Row>) -> Self {
        rows.sort_by(|a, b| a.name.cmp(&b.name));
        Self {
            preset: preset.to_string(),
            rows,
        }
    }

    /// Rows that rendered.
    pub fn ok(&self) -> usize {
        self.rows.iter().filter(|r| r.result.is_ok()).count()
    }

    /// summaries.csv: `recording,status,error,render_s`, then the [`FIELDS`].
    pub fn csv(&self) -> String {
        let mut csv = String::from("recording,status,error,render_s");
        for (k, _) in FIELDS {
            csv.push(',');
            csv.push_str(k);
        }
        csv.push('\n');
        for r in &self.rows {
            let (status, err) = match &r.result {
                Ok(_) => ("ok", String::new()),
                Err(e) => ("failed", e.clone()),
            };
            let _ = write!(
                csv,
                "{},{status},{},{:.2}",
                csv_cell(&r.name),
                csv_cell(&err),
                r.seconds
            );
            match &r.result {
                Ok(cells) => {
                    for c in cells {
                        let _ = write!(csv, ",{}", csv_cell(c));
                    }
                }
                Err(_) => {
                    for _ in FIELDS {
                        csv.push(',');
                    }
                }
            }
            csv.push('\n');
        }
        csv
    }

    /// index.html: a table linking each session's report.
    pub fn html(&self) -> String {
        let mut rows = String::new();
        for r in &self.rows {
            let _ = write!(rows, "<tr><td>");
            match &r.result {
                Ok(_) => {
                    let _ = write!(
                        rows,
                        "<a href=\"{0}/report.html\">{0}</a></td><td>{1}</td><td>{2}</td><td>{3}</td><td>{4}</td><td>{5}</td><td>{6}</td></tr>",
                        esc(&r.name),
                        if r.cell("partial") == "true" { "partial" } else { "complete" },
                        esc(r.cell("hr_baseline")),
                        esc(r.cell("hr_closing")),
                        esc(r.cell("arousal_baseline")),
                        esc(r.cell("arousal_closing")),
                        esc(r.cell("escalations")),
                    );
                }
                Err(e) => {
                    let _ = write!(
                        rows,
                        "{}</td><td colspan=\"6\">failed: {}</td></tr>",
                        esc(&r.name),
                        esc(e)
                    );
                }
            }
            rows.push('\n');
        }
        let n = self.rows.len();
        let ok = self.ok();
        format!(
            "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Isochord batch: {n} sessions</title>\
<style>body{{font-family:sans-serif;margin:1.5em auto;max-width:1000px}}table{{border-collapse:collapse}}th,td{{border:1px solid #ccc;padding:.25em .6em}}</style></head><body>\n\
<h1>Batch of {n} recordings, preset {preset}</h1>\n<p>{ok} rendered, {failed} failed; all figures in <a href=\"summaries.csv\">summaries.csv</a>. \
Not a diagnostic device: see each report.</p>\n<table><tr><th>recording</th><th>session</th><th>HR baseline</th><th>HR closing</th><th>arousal baseline</th><th>arousal closing</th><th>escalations</th></tr>\n{rows}</table>\n</body></html>\n",
            preset = esc(&self.preset),
            failed = n - ok,
        )
    }

    /// A shard's results as JSON (`shard-K-of-N.json`), for [`merge`]: the shard, the
    /// number of recordings in the whole batch, the preset and the rows.
    pub fn shard_json(&self, shard: Shard, batch_total: usize) -> String {
        let v = json!({
            "isochord_batch_shard": 1,
            "shard": shard.index,
            "shards": shard.count,
            "batch_recordings": batch_total,
            "preset": self.preset,
            "rows": self.rows.iter().map(Row::to_json).collect::<Vec<_>>(),
        });
        serde_json::to_string_pretty(&v).expect("serialisable") + "\n"
    }
}

/// Combines the shards' results in `dir` (`shard-K-of-N.json`, written by
/// `render-batch --shard`) into one table, checking that every shard of one batch is
/// there, once, with the same preset, and that together they hold every recording once.
pub fn merge(dir: &Path) -> Result<(Table, usize), String> {
    let rd = std::fs::read_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let mut files: Vec<PathBuf> = rd
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| {
            p.file_name().is_some_and(|n| {
                let n = n.to_string_lossy();
                n.starts_with("shard-") && n.ends_with(".json")
            })
        })
        .collect();
    files.sort();
    if files.is_empty() {
        return Err(format!(
            "{}: no shard-K-of-N.json files (written by `render-batch --shard K/N`)",
            dir.display()
        ));
    }
    let mut count = None;
    let mut preset: Option<String> = None;
    let mut total = None;
    let mut seen = Vec::new();
    let mut rows: Vec<Row> = Vec::new();
    for f in &files {
        let text = std::fs::read_to_string(f).map_err(|e| format!("{}: {e}", f.display()))?;
        let v: Json = serde_json::from_str(&text).map_err(|e| format!("{}: {e}", f.display()))?;
        let field = |k: &str| {
            v.get(k)
                .ok_or_else(|| format!("{}: field `{k}` is missing", f.display()))
        };
        let num = |k: &str| {
            field(k)?
                .as_u64()
                .map(|x| x as usize)
                .ok_or_else(|| format!("{}: field `{k}` is not a whole number", f.display()))
        };
        let (k, n, t) = (num("shard")?, num("shards")?, num("batch_recordings")?);
        let p = field("preset")?
            .as_str()
            .ok_or_else(|| format!("{}: field `preset` is not a string", f.display()))?
            .to_string();
        Shard::new(k, n).map_err(|e| format!("{}: {e}", f.display()))?;
        let differs = |what: &str, a: &dyn std::fmt::Display, b: &dyn std::fmt::Display| {
            format!(
                "{}: field `{what}` is {a} but the other shards' is {b}: shards of different batches",
                f.display()
            )
        };
        match count {
            Some(c) if c != n => return Err(differs("shards", &n, &c)),
            _ => count = Some(n),
        }
        match &total {
            Some(c) if *c != t => return Err(differs("batch_recordings", &t, c)),
            _ => total = Some(t),
        }
        match &preset {
            Some(c) if *c != p => return Err(differs("preset", &p, c)),
            _ => preset = Some(p),
        }
        if seen.contains(&k) {
            return Err(format!("{}: shard {k} of {n} is there twice", f.display()));
        }
        seen.push(k);
        let list = field("rows")?
            .as_array()
            .ok_or_else(|| format!("{}: field `rows` is not a list", f.display()))?;
        for (i, r) in list.iter().enumerate() {
            let row = Row::from_json(r)
                .ok_or_else(|| format!("{}: field `rows[{i}]` is malformed", f.display()))?;
            if rows.iter().any(|x| x.name == row.name) {
                return Err(format!(
                    "{}: recording `{}` is in two shards",
                    f.display(),
                    row.name
                ));
            }
            rows.push(row);
        }
    }
    let n = count.unwrap_or(1);
    let missing: Vec<String> = (1..=n)
        .filter(|k| !seen.contains(k))
        .map(|k| format!("{k}/{n}"))
        .collect();
    if !missing.is_empty() {
        return Err(format!(
            "{}: shard {} missing (not finished, or failed before writing its results)",
            dir.display(),
            missing.join(", ")
        ));
    }
    let total = total.unwrap_or(0);
    if rows.len() != total {
        return Err(format!(
            "{}: the shards hold {} recordings but the batch has {total}",
            dir.display(),
            rows.len()
        ));
    }
    Ok((Table::new(&preset.unwrap_or_default(), rows), n))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_are_disjoint_and_cover_everything() {
        let items: Vec<usize> = (0..23).collect();
        for n in 1..=7 {
            let mut all: Vec<usize> = (1..=n)
                .flat_map(|k| Shard::new(k, n).unwrap().select(&items))
                .collect();
            all.sort();
            assert_eq!(all, items, "{n} shards");
        }
    }

    #[test]
    fn shard_specs_are_checked() {
        assert_eq!(Shard::parse("2/4").unwrap(), Shard { index: 2, count: 4 });
        for bad in ["0/4", "5/4", "1/0", "x/2", "3", "1/two"] {
            assert!(Shard::parse(bad).is_err(), "{bad}");
        }
        assert!(Shard::parse("0/4").unwrap_err().contains("numbered 1 to 4"));
    }

    #[test]
    fn shard_from_slurm_and_kubernetes() {
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |k: &str| {
                pairs
                    .iter()
                    .find(|(n, _)| *n == k)
                    .map(|(_, v)| v.to_string())
            }
        };
        // --array=0-3
        let s = Shard::from_env(
            env(&[
                ("SLURM_ARRAY_TASK_ID", "0"),
                ("SLURM_ARRAY_TASK_COUNT", "4"),
            ]),
            None,
        );
        assert_eq!(s.unwrap(), Some(Shard { index: 1, count: 4 }));
        // --array=1-4
        let s = Shard::from_env(
            env(&[
                ("SLURM_ARRAY_TASK_ID", "4"),
                ("SLURM_ARRAY_TASK_MIN", "1"),
                ("SLURM_ARRAY_TASK_COUNT", "4"),
            ]),
            None,
        );
        assert_eq!(s.unwrap(), Some(Shard { index: 4, count: 4 }));
        let s = Shard::from_env(env(&[("JOB_COMPLETION_INDEX", "2")]), Some(3));
        assert_eq!(s.unwrap(), Some(Shard { index: 3, count: 3 }));
        let e = Shard::from_env(env(&[("JOB_COMPLETION_INDEX", "2")]), None).unwrap_err();
        assert!(e.contains("--shards"), "{e}");
        let e = Shard::from_env(env(&[("JOB_COMPLETION_INDEX", "3")]), Some(3)).unwrap_err();
        assert!(e.contains("JOB_COMPLETION_INDEX=3"), "{e}");
        assert_eq!(Shard::from_env(env(&[]), Some(3)).unwrap(), None);
    }

    fn row(name: &str, ok: bool) -> Row {
        Row {
            name: name.into(),
            result: if ok {
                Ok(FIELDS.iter().map(|(k, _)| format!("{name}-{k}")).collect())
            } else {
                Err(format!("{name}: bad, \"quoted\""))
            },
            seconds: 1.25,
        }
    }

    #[test]
    fn merged_shards_equal_the_whole_table() {
        let names = ["a", "b", "c", "d", "e"];
        let rows: Vec<Row> = names.iter().map(|n| row(n, *n != "c")).collect();
        let whole = Table::new("relax", rows.clone());
        let dir = tempfile::tempdir().unwrap();
        for k in 1..=2 {
            let s = Shard::new(k, 2).unwrap();
            let t = Table::new("relax", s.select(&rows));
            std::fs::write(dir.path().join(s.file_name()), t.shard_json(s, names.len())).unwrap();
        }
        let (merged, n) = merge(dir.path()).unwrap();
        assert_eq!(n, 2);
        assert_eq!(merged, whole);
        assert_eq!(merged.csv(), whole.csv());
        assert_eq!(merged.html(), whole.html());
        // a missing shard is named
        std::fs::remove_file(dir.path().join("shard-2-of-2.json")).unwrap();
        let e = merge(dir.path()).unwrap_err();
        assert!(e.contains("shard 2/2 missing"), "{e}");
    }
}
