//! Biometric inputs named by a short string (as on the command line):
//! `sim`, `osc://HOST:PORT[?preset=emotibit|hr_apps]`, `e4:DIR`, `file:PATH`, `stdin`,
//! or a bare path (a folder is an E4 export; `.jsonl` is JSON Lines; otherwise CSV).
//! Parsed and opened on the control thread.

use crate::biometrics::sources::{
    ArousalScript, Clock, CsvOptions, CsvSource, E4Options, E4Source, JsonLinesOptions,
    JsonLinesSource, OscConfig, OscSource, SimOptions, Simulator, SimulatorHandle, Source,
};
use crate::biometrics::SourceError;
use std::path::{Path, PathBuf};

/// Why an input could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum InputError {
    /// A live input (OSC, standard input, the simulator) was opened as a file.
    #[error("{0} is not a file input (an E4 folder or a readings file)")]
    NotAFile(String),
    /// A file input (or the simulator) was opened as a live one.
    #[error("{0} is not a live input (osc://HOST:PORT or stdin)")]
    NotLive(String),
    /// The file or folder does not exist.
    #[error("{}: no such file or folder", .0.display())]
    Missing(PathBuf),
    /// The file is there but cannot be read: the error names its line and field.
    #[error(transparent)]
    Source(#[from] SourceError),
    /// The OSC address map is not one the engine knows.
    #[error("osc://{bind}: unknown OSC preset {preset:?} (emotibit or hr_apps)")]
    UnknownOscPreset {
        /// The address to listen on.
        bind: String,
        /// The preset asked for.
        preset: String,
    },
    /// The OSC address is not a numeric socket address.
    #[error("osc://{0}: not a numeric address such as 127.0.0.1:12345")]
    BadAddress(String),
    /// The OSC socket could not be bound.
    #[error("osc://{bind}: cannot listen: {source}")]
    Listen {
        /// The address to listen on.
        bind: String,
        /// Why binding failed.
        source: std::io::Error,
    },
    /// Standard input could not be read.
    #[error("stdin: {0}")]
    Stdin(std::io::Error),
}

/// A parsed input specification.
#[derive(Clone, Debug, PartialEq)]
pub enum InputSpec {
    /// The simulated listener.
    Simulator,
    /// OSC over UDP.
    Osc {
        /// Address to bind.
        bind: String,
        /// Address map preset.
        preset: String,
    },
    /// An E4 export folder.
    E4(PathBuf),
    /// A CSV or JSON Lines file of readings.
    File(PathBuf),
    /// JSON Lines on standard input.
    Stdin,
}

impl std::str::FromStr for InputSpec {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        if s == "sim" || s == "simulator" {
            return Ok(InputSpec::Simulator);
        }
        if s == "stdin" || s == "-" {
            return Ok(InputSpec::Stdin);
        }
        if let Some(rest) = s.strip_prefix("osc://") {
            let (addr, query) = rest.split_once('?').unwrap_or((rest, ""));
            // `localhost` is the loopback address (no name lookup)
            let addr = match addr {
                "" | "localhost" => "127.0.0.1:12345".to_string(),
                a => match a.strip_prefix("localhost:") {
                    Some(port) => format!("127.0.0.1:{port}"),
                    None => a.to_string(),
                },
            };
            let addr = addr.as_str();
            if addr.parse::<std::net::SocketAddr>().is_err() {
                return Err(format!(
                    "{s}: expected osc://HOST:PORT with a numeric address, e.g. osc://127.0.0.1:12345"
                ));
            }
            let mut preset = "hr_apps".to_string();
            for kv in query.split('&').filter(|q| !q.is_empty()) {
                match kv.split_once('=') {
                    Some(("preset", v)) => preset = v.to_string(),
                    _ => return Err(format!("{s}: unknown option {kv:?} (only preset=…)")),
                }
            }
            if OscConfig::preset(&preset).is_none() {
                return Err(format!(
                    "{s}: unknown OSC preset {preset:?} (emotibit or hr_apps)"
                ));
            }
            return Ok(InputSpec::Osc {
                bind: addr.to_string(),
                preset,
            });
        }
        if let Some(dir) = s.strip_prefix("e4:") {
            return Ok(InputSpec::E4(PathBuf::from(dir)));
        }
        if let Some(path) = s.strip_prefix("file:") {
            return Ok(InputSpec::File(PathBuf::from(path)));
        }
        let p = PathBuf::from(s);
        if p.is_dir() {
            Ok(InputSpec::E4(p))
        } else {
            Ok(InputSpec::File(p))
        }
    }
}

impl InputSpec {
    /// Warnings to show before the session: an OSC input listening on every interface
    /// (anyone on the network can steer the session), an E4 folder missing files.
    pub fn warnings(&self) -> Vec<String> {
        let mut w = Vec::new();
        match self {
            InputSpec::Osc { bind, .. } => {
                if let Ok(a) = bind.parse::<std::net::SocketAddr>() {
                    if a.ip().is_unspecified() {
                        w.push(format!(
                            "warning: osc://{bind} listens on every network interface: anyone who can reach this machine on UDP port {} can send readings that steer the session (use 127.0.0.1 to listen on this machine only)",
                            a.port()
                        ));
                    }
                }
            }
            InputSpec::E4(dir) => {
                let missing: Vec<(&str, &str)> = [
                    ("HR.csv", "the device's heart rate"),
                    (
                        "IBI.csv",
                        "beat-to-beat intervals (no HRV unless the pulse waveform gives them)",
                    ),
                    ("EDA.csv", "skin conductance"),
                    ("BVP.csv", "the pulse waveform"),
                    ("ACC.csv", "movement"),
                    ("TEMP.csv", "skin temperature"),
                ]
                .into_iter()
                .filter(|(f, _)| !dir.join(f).is_file())
                .collect();
                // a folder with none of them is refused when it is opened
                if !missing.is_empty() && missing.len() < 6 {
                    let files: Vec<&str> = missing.iter().map(|m| m.0).collect();
                    let what: Vec<&str> = missing.iter().map(|m| m.1).collect();
                    w.push(format!(
                        "warning: {}: the E4 folder has no {}: the session goes on without {}",
                        dir.display(),
                        files.join(", "),
                        what.join(", ")
                    ));
                }
            }
            _ => {}
        }
        w
    }

    /// Whether the input is a recording replayed after the fact (its data were not
    /// measured while the session played).
    pub fn is_replay(&self) -> bool {
        matches!(self, InputSpec::E4(_) | InputSpec::File(_))
    }

    /// When a replayed recording started (RFC 3339 UTC), where the recording says: an E4
    /// folder's start time (row 1 of its files).
    pub fn recording_start(&self) -> Option<String> {
        match self {
            InputSpec::E4(dir) => E4Source::open(dir, E4Options::default())
                .ok()
                .map(|s| crate::session::log::format_utc(s.start_unix().floor() as i64)),
            InputSpec::File(path) => {
                first_unix_time(path).map(|s| crate::session::log::format_utc(s.floor() as i64))
            }
            _ => None,
        }
    }

    /// Whether the input arrives in real time (cannot be rendered offline).
    pub fn is_live(&self) -> bool {
        matches!(self, InputSpec::Osc { .. } | InputSpec::Stdin)
    }

    /// A short name of the input, as on the command line.
    pub fn name(&self) -> String {
        match self {
            InputSpec::Simulator => "sim".into(),
            InputSpec::Osc { bind, preset } => format!("osc://{bind}?preset={preset}"),
            InputSpec::E4(dir) => format!("e4:{}", dir.display()),
            InputSpec::File(path) => format!("file:{}", path.display()),
            InputSpec::Stdin => "stdin".into(),
        }
    }

    /// Opens a file input (E4 folder or readings file). Runs on the control thread.
    pub fn open_file(&self) -> Result<Box<dyn Source>, InputError> {
        match self {
            InputSpec::E4(dir) => Ok(Box::new(E4Source::open(dir, E4Options::default())?)),
            InputSpec::File(path) => open_readings(path),
            _ => Err(InputError::NotAFile(self.name())),
        }
    }

    /// Opens a live input paced by `clock`. Runs on the control thread.
    pub fn open_live<C: Clock + Clone + 'static>(
        &self,
        clock: C,
    ) -> Result<Box<dyn Source>, InputError> {
        match self {
            InputSpec::Osc { bind, preset } => {
                let mut cfg =
                    OscConfig::preset(preset).ok_or_else(|| InputError::UnknownOscPreset {
                        bind: bind.clone(),
                        preset: preset.clone(),
                    })?;
                cfg.bind = bind
                    .parse()
                    .map_err(|_| InputError::BadAddress(bind.clone()))?;
                OscSource::bind(&cfg, clock)
                    .map(|s| Box::new(s) as Box<dyn Source>)
                    .map_err(|source| InputError::Listen {
                        bind: bind.clone(),
                        source,
                    })
            }
            InputSpec::Stdin => JsonLinesSource::stdin(clock)
                .map(|s| Box::new(s) as Box<dyn Source>)
                .map_err(InputError::Stdin),
            _ => Err(InputError::NotLive(self.name())),
        }
    }
}

/// A simulator for a session: a constant script (a listener model steers it).
pub fn simulator(seed: u64, duration_s: f64, arousal: f64) -> (Simulator, SimulatorHandle) {
    let sim = Simulator::new(SimOptions {
        seed,
        duration: Some(duration_s + 60.0),
        script: ArousalScript::constant(arousal),
        ..Default::default()
    });
    let h = sim.handle();
    (sim, h)
}

/// The first time stamp of a readings file when it is a unix time (seconds from 10⁸,
/// milliseconds from 10¹¹, as the sources read them), in unix seconds: the CSV's time
/// column (`time`, `t`, `timestamp`, `time_s`) or the JSON Lines' `time`, within the first
/// 100 lines. `None` for relative times.
fn first_unix_time(path: &Path) -> Option<f64> {
    use std::io::BufRead;
    let file = std::fs::File::open(path).ok()?;
    let mut lines = std::io::BufReader::new(file).lines().take(100);
    let unix = |t: f64| {
        if t >= 1e11 {
            Some(t / 1000.0)
        } else if t >= 1e8 {
            Some(t)
        } else {
            None
        }
    };
    let is_time = |h: &str| {
        matches!(
            h.trim().to_ascii_lowercase().as_str(),
            "time" | "t" | "timestamp" | "time_s"
        )
    };
    let first = lines.next()?.ok()?;
    if first.trim_start().starts_with('{') {
        for line in std::iter::once(first).chain(lines.map_while(Result::ok)) {
            let v: serde_json::Value = serde_json::from_str(&line).ok()?;
            if let Some(t) = v.get("time").and_then(serde_json::Value::as_f64) {
                return unix(t);
            }
        }
        return None;
    }
    let sep = if first.contains(';') && !first.contains(',') {
        ';'
    } else {
        ','
    };
    let col = first.split(sep).position(is_time)?;
    for line in lines.map_while(Result::ok) {
        if let Some(t) = line
            .split(sep)
            .nth(col)
            .and_then(|c| c.trim().parse::<f64>().ok())
        {
            return unix(t);
        }
    }
    None
}

fn open_readings(path: &Path) -> Result<Box<dyn Source>, InputError> {
    if !path.exists() {
        return Err(InputError::Missing(path.to_path_buf()));
    }
    let jsonl = path
        .extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("jsonl") || e.eq_ignore_ascii_case("ndjson"));
    Ok(if jsonl {
        Box::new(JsonLinesSource::open(path, JsonLinesOptions::default())?)
    } else {
        Box::new(CsvSource::open(path, CsvOptions::default())?)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specs_parse() {
        assert_eq!("sim".parse::<InputSpec>(), Ok(InputSpec::Simulator));
        assert_eq!("stdin".parse::<InputSpec>(), Ok(InputSpec::Stdin));
        assert_eq!(
            "osc://127.0.0.1:9000?preset=emotibit".parse::<InputSpec>(),
            Ok(InputSpec::Osc {
                bind: "127.0.0.1:9000".into(),
                preset: "emotibit".into()
            })
        );
        assert_eq!(
            "osc://localhost:9000".parse::<InputSpec>(),
            Ok(InputSpec::Osc {
                bind: "127.0.0.1:9000".into(),
                preset: "hr_apps".into()
            })
        );
        assert!("osc://example.org:9000".parse::<InputSpec>().is_err());
        let every = "osc://0.0.0.0:9000".parse::<InputSpec>().unwrap();
        assert!(every.warnings()[0].contains("every network interface"));
        assert!("osc://127.0.0.1:1?preset=x".parse::<InputSpec>().is_err());
        assert_eq!(
            "e4:/x/y".parse::<InputSpec>(),
            Ok(InputSpec::E4("/x/y".into()))
        );
        assert_eq!(
            "file:a.csv".parse::<InputSpec>(),
            Ok(InputSpec::File("a.csv".into()))
        );
    }
}
