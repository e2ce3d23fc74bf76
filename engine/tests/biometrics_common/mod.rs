//! Readers for the small recordings and reference tables in `tests/data/biometrics`.
#![allow(dead_code)]

use std::collections::HashMap;
use std::path::PathBuf;

/// Path of a file under `engine/tests/data/biometrics`.
pub fn data(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/biometrics")
        .join(rel)
}

/// Columns of a CSV with a header row, by name, as f64 (empty cells are NaN).
pub fn columns(rel: &str) -> HashMap<String, Vec<f64>> {
    let text = std::fs::read_to_string(data(rel)).unwrap();
    let mut lines = text.lines();
    let names: Vec<String> = lines
        .next()
        .unwrap()
        .split(',')
        .map(|s| s.trim().to_string())
        .collect();
    let mut cols: Vec<Vec<f64>> = vec![Vec::new(); names.len()];
    for l in lines.filter(|l| !l.trim().is_empty()) {
        for (i, f) in l.split(',').enumerate() {
            cols[i].push(f.trim().parse().unwrap_or(f64::NAN));
        }
    }
    names.into_iter().zip(cols).collect()
}

/// Rows of a reference table as name -> text maps.
pub fn rows(rel: &str) -> Vec<HashMap<String, String>> {
    let text = std::fs::read_to_string(data(rel)).unwrap();
    let mut lines = text.lines();
    let names: Vec<String> = lines.next().unwrap().split(',').map(String::from).collect();
    lines
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            names
                .iter()
                .cloned()
                .zip(l.split(',').map(String::from))
                .collect()
        })
        .collect()
}

/// A numeric field of a reference row (NaN when empty).
pub fn num(row: &HashMap<String, String>, key: &str) -> f64 {
    row.get(key)
        .unwrap_or_else(|| panic!("no column {key}"))
        .parse()
        .unwrap_or(f64::NAN)
}

/// The reference row whose `record` is `name`.
pub fn record<'a>(table: &'a [HashMap<String, String>], name: &str) -> &'a HashMap<String, String> {
    table
        .iter()
        .find(|r| r["record"] == name)
        .unwrap_or_else(|| panic!("no reference row for {name}"))
}

/// An Empatica single-column file: (start unix s, rate Hz, samples).
pub fn e4_single(rel: &str) -> (f64, f64, Vec<f32>) {
    let text = std::fs::read_to_string(data(rel)).unwrap();
    let mut l = text.lines();
    let start: f64 = l
        .next()
        .unwrap()
        .split(',')
        .next()
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    let fs: f64 = l
        .next()
        .unwrap()
        .split(',')
        .next()
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    let x = l
        .filter(|s| !s.trim().is_empty())
        .map(|s| s.split(',').next().unwrap().trim().parse().unwrap())
        .collect();
    (start, fs, x)
}

/// An Empatica IBI.csv: (seconds since start, interval in ms).
pub fn e4_ibi(rel: &str) -> Vec<(f64, f64)> {
    let text = std::fs::read_to_string(data(rel)).unwrap();
    text.lines()
        .skip(1)
        .filter(|s| !s.trim().is_empty())
        .map(|s| {
            let mut f = s.split(',');
            let t: f64 = f.next().unwrap().trim().parse().unwrap();
            let v: f64 = f.next().unwrap().trim().parse().unwrap();
            (t, v * 1000.0)
        })
        .collect()
}

/// Relative difference |a - b| / |b|.
pub fn rel(a: f64, b: f64) -> f64 {
    (a - b).abs() / b.abs()
}
