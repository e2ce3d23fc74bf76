//! A reader for PhysioNet WFDB records: the `.hea` header, signal files in format 212
//! (12-bit packed, the MIT-BIH Arrhythmia Database's) or 16, and MIT-format annotation
//! files (`.atr`). Enough to validate beat detection against expert annotations.
//!
//! Reading happens on the input or control thread (it does file I/O), never on the audio
//! thread. Malformed input gives a [`SourceError`] naming the file, line and field.

use crate::SourceError;
use std::path::{Path, PathBuf};

/// One signal described by a header line.
#[derive(Clone, Debug, PartialEq)]
pub struct SignalSpec {
    /// The data file name, relative to the header's folder.
    pub file: String,
    /// Storage format (212 or 16 are supported).
    pub format: u32,
    /// Analog-to-digital units per physical unit.
    pub gain: f64,
    /// Digital value of 0 physical units.
    pub baseline: i32,
    /// Physical unit, e.g. `mV`.
    pub units: String,
    /// Description, e.g. `MLII`.
    pub description: String,
}

/// A parsed `.hea` header.
#[derive(Clone, Debug, PartialEq)]
pub struct Header {
    /// Record name.
    pub name: String,
    /// Samples per second per signal.
    pub fs: f64,
    /// Samples per signal (0 when not stated).
    pub n_samples: usize,
    /// The signals, in file order.
    pub signals: Vec<SignalSpec>,
}

/// A record's signals in physical units.
#[derive(Clone, Debug, PartialEq)]
pub struct Record {
    /// The header.
    pub header: Header,
    /// One vector per signal, in physical units (`(adc - baseline) / gain`).
    pub signals: Vec<Vec<f32>>,
}

impl Record {
    /// The samples of the signal whose description is `name` (e.g. `MLII`).
    pub fn signal(&self, name: &str) -> Option<&[f32]> {
        self.header
            .signals
            .iter()
            .position(|s| s.description == name)
            .map(|i| self.signals[i].as_slice())
    }
}

/// One annotation.
#[derive(Clone, Debug, PartialEq)]
pub struct Annotation {
    /// Sample index.
    pub sample: u64,
    /// MIT annotation code (1 = N, 5 = V, 8 = A, ...).
    pub code: u8,
    /// The one-letter symbol WFDB prints for the code.
    pub symbol: &'static str,
    /// Auxiliary text (rhythm labels such as `(N`), when present.
    pub aux: Option<String>,
}

impl Annotation {
    /// Whether this annotation marks a heartbeat (the codes WFDB counts as beats:
    /// `N L R B A a J S V r F e j n E / f Q ?`).
    pub fn is_beat(&self) -> bool {
        matches!(self.code, 1..=13 | 25 | 30 | 34 | 35 | 38 | 41)
    }
}

/// The WFDB symbol of an MIT annotation code.
pub fn annotation_symbol(code: u8) -> &'static str {
    const SYM: [&str; 50] = [
        " ", "N", "L", "R", "a", "V", "F", "J", "A", "S", "E", "j", "/", "Q", "~", "", "|", "",
        "s", "T", "*", "D", "\"", "=", "p", "B", "^", "t", "+", "u", "?", "!", "[", "]", "e", "n",
        "@", "x", "f", "(", ")", "r", "", "", "", "", "", "", "", "",
    ];
    SYM.get(code as usize).copied().unwrap_or("")
}

fn err(path: &Path, line: usize, field: &str, msg: impl Into<String>) -> SourceError {
    SourceError::at_line(path, line, msg).with_field(field)
}

/// Parses header text; `path` only names the file in errors.
pub fn parse_header(text: &str, path: &Path) -> Result<Header, SourceError> {
    let mut lines = text
        .lines()
        .enumerate()
        .map(|(i, l)| (i + 1, l.trim()))
        .filter(|(_, l)| !l.is_empty() && !l.starts_with('#'));
    let (ln, rec) = lines
        .next()
        .ok_or_else(|| SourceError::file(path, "empty header: no record line"))?;
    let f: Vec<&str> = rec.split_whitespace().collect();
    let name = f[0].split('/').next().unwrap_or("").to_string();
    let nsig: usize = f
        .get(1)
        .ok_or_else(|| err(path, ln, "number of signals", "missing"))?
        .parse()
        .map_err(|_| {
            err(
                path,
                ln,
                "number of signals",
                format!("`{}` is not a count", f[1]),
            )
        })?;
    let fs = match f.get(2) {
        None => 250.0,
        Some(s) => {
            let v = s.split('/').next().unwrap_or(s);
            let fs: f64 = v.parse().map_err(|_| {
                err(
                    path,
                    ln,
                    "sampling frequency",
                    format!("`{s}` is not a number"),
                )
            })?;
            if !(fs.is_finite() && fs > 0.0) {
                return Err(err(path, ln, "sampling frequency", "must be positive"));
            }
            fs
        }
    };
    let n_samples = match f.get(3) {
        None => 0,
        Some(s) => s.parse().map_err(|_| {
            err(
                path,
                ln,
                "number of samples",
                format!("`{s}` is not a count"),
            )
        })?,
    };
    let mut signals = Vec::with_capacity(nsig);
    for _ in 0..nsig {
        let (ln, l) = lines.next().ok_or_else(|| {
            SourceError::file(
                path,
                format!("header announces {nsig} signals but lists fewer"),
            )
        })?;
        let f: Vec<&str> = l.split_whitespace().collect();
        if f.len() < 2 {
            return Err(err(
                path,
                ln,
                "format",
                "signal line needs a file name and a format",
            ));
        }
        let fmt_txt = f[1].split(['x', ':', '+']).next().unwrap_or("");
        let format: u32 = fmt_txt
            .parse()
            .map_err(|_| err(path, ln, "format", format!("`{}` is not a format", f[1])))?;
        let (gain, mut baseline, units) = match f.get(2) {
            None => (200.0, None, "mV".to_string()),
            Some(g) => {
                let (num, rest) = match g.find(['(', '/']) {
                    Some(i) => (&g[..i], &g[i..]),
                    None => (*g, ""),
                };
                let gain: f64 = num
                    .parse()
                    .map_err(|_| err(path, ln, "gain", format!("`{g}` is not a gain")))?;
                let mut baseline = None;
                let mut units = "mV".to_string();
                if let Some(r) = rest.strip_prefix('(') {
                    let close = r
                        .find(')')
                        .ok_or_else(|| err(path, ln, "baseline", "unclosed `(`"))?;
                    baseline = Some(r[..close].parse::<i32>().map_err(|_| {
                        err(
                            path,
                            ln,
                            "baseline",
                            format!("`{}` is not an integer", &r[..close]),
                        )
                    })?);
                    if let Some(u) = r[close + 1..].strip_prefix('/') {
                        units = u.to_string();
                    }
                } else if let Some(u) = rest.strip_prefix('/') {
                    units = u.to_string();
                }
                (if gain == 0.0 { 200.0 } else { gain }, baseline, units)
            }
        };
        // adc resolution f[3], adc zero f[4] (the baseline when none is given)
        if baseline.is_none() {
            baseline = Some(match f.get(4) {
                None => 0,
                Some(s) => s
                    .parse()
                    .map_err(|_| err(path, ln, "ADC zero", format!("`{s}` is not an integer")))?,
            });
        }
        let description = if f.len() > 8 {
            f[8..].join(" ")
        } else {
            String::new()
        };
        signals.push(SignalSpec {
            file: f[0].to_string(),
            format,
            gain,
            baseline: baseline.unwrap_or(0),
            units,
            description,
        });
    }
    Ok(Header {
        name,
        fs,
        n_samples,
        signals,
    })
}

/// Reads a record from its header path (`.../100.hea`); the signal files are looked up
/// next to it. All signals must share one data file in format 212 or 16.
pub fn read_record(header_path: &Path) -> Result<Record, SourceError> {
    let text = std::fs::read_to_string(header_path)
        .map_err(|e| SourceError::file(header_path, format!("cannot read: {e}")))?;
    let header = parse_header(&text, header_path)?;
    if header.signals.is_empty() {
        return Err(SourceError::file(header_path, "record has no signals"));
    }
    let file = &header.signals[0].file;
    let format = header.signals[0].format;
    if header
        .signals
        .iter()
        .any(|s| &s.file != file || s.format != format)
    {
        return Err(SourceError::file(
            header_path,
            "signals in several files or formats are not supported",
        ));
    }
    let dir = header_path.parent().unwrap_or(Path::new("."));
    let data_path: PathBuf = dir.join(file);
    let bytes = std::fs::read(&data_path)
        .map_err(|e| SourceError::file(&data_path, format!("cannot read: {e}")))?;
    let digital = decode(&bytes, format, header.signals.len())
        .map_err(|m| SourceError::file(&data_path, m).with_field("format"))?;
    let nsig = header.signals.len();
    let mut frames = digital.len() / nsig;
    if header.n_samples > 0 {
        if frames < header.n_samples {
            return Err(SourceError::file(
                &data_path,
                format!(
                    "holds {frames} samples per signal, header says {}",
                    header.n_samples
                ),
            ));
        }
        frames = header.n_samples;
    }
    let signals = header
        .signals
        .iter()
        .enumerate()
        .map(|(k, s)| {
            (0..frames)
                .map(|i| ((digital[i * nsig + k] - s.baseline) as f64 / s.gain) as f32)
                .collect()
        })
        .collect();
    Ok(Record { header, signals })
}

/// Decodes interleaved digital samples.
fn decode(bytes: &[u8], format: u32, nsig: usize) -> Result<Vec<i32>, String> {
    match format {
        212 => {
            let mut out = Vec::with_capacity(bytes.len() * 2 / 3);
            for c in bytes.chunks_exact(3) {
                let s0 = (c[0] as i32) | (((c[1] as i32) & 0x0F) << 8);
                let s1 = (c[2] as i32) | (((c[1] as i32) & 0xF0) << 4);
                out.push(if s0 > 2047 { s0 - 4096 } else { s0 });
                out.push(if s1 > 2047 { s1 - 4096 } else { s1 });
            }
            // a trailing odd sample is padding when the frame count is odd
            out.truncate(out.len() - out.len() % nsig);
            Ok(out)
        }
        16 => Ok(bytes
            .chunks_exact(2)
            .map(|c| i16::from_le_bytes([c[0], c[1]]) as i32)
            .collect()),
        f => Err(format!(
            "WFDB format {f} is not supported (only 212 and 16)"
        )),
    }
}

/// Parses an MIT-format annotation file's bytes; `path` only names the file in errors.
pub fn parse_annotations(bytes: &[u8], path: &Path) -> Result<Vec<Annotation>, SourceError> {
    let mut out: Vec<Annotation> = Vec::new();
    let mut t: u64 = 0;
    let mut i = 0;
    let word = |i: usize| -> Option<u16> {
        bytes
            .get(i..i + 2)
            .map(|b| u16::from_le_bytes([b[0], b[1]]))
    };
    let at = |i: usize, msg: String| {
        SourceError::file(path, format!("byte {i}: {msg}")).with_field("annotation")
    };
    while let Some(w) = word(i) {
        let code = (w >> 10) as u8;
        let val = (w & 0x3FF) as u64;
        i += 2;
        match code {
            0 if val == 0 => break,
            59 => {
                // SKIP: next 4 bytes are a signed 32-bit interval, high 16 bits first
                let hi = word(i).ok_or_else(|| at(i, "truncated SKIP".into()))?;
                let lo = word(i + 2).ok_or_else(|| at(i, "truncated SKIP".into()))?;
                i += 4;
                let skip = (((hi as u32) << 16) | lo as u32) as i32 as i64;
                let nt = t as i64 + skip;
                if nt < 0 {
                    return Err(at(i, "SKIP before the record start".into()));
                }
                t = nt as u64;
            }
            60..=62 => {} // NUM, SUB, CHN: not needed here
            63 => {
                let len = val as usize;
                let text = bytes
                    .get(i..i + len)
                    .ok_or_else(|| at(i, "truncated AUX text".into()))?;
                let s = String::from_utf8_lossy(text)
                    .trim_end_matches('\0')
                    .to_string();
                if let Some(last) = out.last_mut() {
                    last.aux = Some(s);
                }
                i += len + (len & 1);
            }
            c => {
                t += val;
                out.push(Annotation {
                    sample: t,
                    code: c,
                    symbol: annotation_symbol(c),
                    aux: None,
                });
            }
        }
    }
    Ok(out)
}

/// Reads an annotation file (e.g. `100.atr`).
pub fn read_annotations(path: &Path) -> Result<Vec<Annotation>, SourceError> {
    let bytes =
        std::fs::read(path).map_err(|e| SourceError::file(path, format!("cannot read: {e}")))?;
    parse_annotations(&bytes, path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_fields_are_parsed_and_errors_name_the_field() {
        let h = parse_header(
            "# c\n100 2 360 650000\n100.dat 212 200 11 1024 995 -22131 0 MLII\n\
             100.dat 212 200(0)/uV 11 1024 1011 20052 0 V5\n",
            Path::new("100.hea"),
        )
        .unwrap();
        assert_eq!(h.fs, 360.0);
        assert_eq!(h.n_samples, 650000);
        assert_eq!(h.signals[0].baseline, 1024);
        assert_eq!(h.signals[1].baseline, 0);
        assert_eq!(h.signals[1].units, "uV");
        assert_eq!(h.signals[0].description, "MLII");
        let e = parse_header("100 2 abc\n", Path::new("x.hea")).unwrap_err();
        assert_eq!(e.line, Some(1));
        assert_eq!(e.field.as_deref(), Some("sampling frequency"));
        let e = parse_header("100 2 360\nf 212\n", Path::new("x.hea")).unwrap_err();
        assert!(e.message.contains("fewer"), "{e}");
        let e = parse_header("100 1 360\nf xyz\n", Path::new("x.hea")).unwrap_err();
        assert_eq!((e.line, e.field.as_deref()), (Some(2), Some("format")));
    }

    #[test]
    fn format_212_unpacks_two_signed_samples_per_three_bytes() {
        // samples 0x123 and -1 (0xFFF)
        let d = decode(&[0x23, 0xF1, 0xFF], 212, 2).unwrap();
        assert_eq!(d, vec![0x123, -1]);
    }

    #[test]
    fn annotations_accumulate_time_and_attach_aux() {
        // N at 5, AUX "(N" , A at 5+300 via SKIP-free step, end
        let mut b = Vec::new();
        let w = |code: u16, v: u16| ((code << 10) | v).to_le_bytes();
        b.extend(w(1, 5));
        b.extend(w(63, 2));
        b.extend(b"(N");
        b.extend(w(8, 300));
        b.extend(w(59, 0));
        b.extend(0u16.to_le_bytes());
        b.extend(1000u16.to_le_bytes());
        b.extend(w(5, 0));
        b.extend(w(0, 0));
        let a = parse_annotations(&b, Path::new("t.atr")).unwrap();
        assert_eq!(a.len(), 3);
        assert_eq!((a[0].sample, a[0].symbol), (5, "N"));
        assert_eq!(a[0].aux.as_deref(), Some("(N"));
        assert_eq!((a[1].sample, a[1].symbol), (305, "A"));
        assert_eq!((a[2].sample, a[2].symbol), (1305, "V"));
        assert!(a.iter().all(|x| x.is_beat()));
        let e = parse_annotations(&w(63, 9), Path::new("t.atr")).unwrap_err();
        assert!(e.message.contains("AUX"));
    }
}
