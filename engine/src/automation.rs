//! Automation files: parameter keyframes over time, in CSV.
//!
//! ```text
//! # time is seconds or a duration (90s, 2m, 1h30m); other columns are parameter names
//! time,tempo,brightness,density,breath_rate,key,scale
//! 0,64,0.5,0.4,6,,
//! 2m,72,0.7,,,
//! 5m,56,,0.8,5,A,dorian
//! ```
//!
//! An empty cell means "no keyframe here" for that column. Continuous parameters move
//! linearly between their keyframes (and from the preset's starting value at 0 s to
//! their first keyframe); `*_enabled`, `key` and `scale` change in steps. After its last
//! keyframe a parameter holds its value. The soundscape's bounded slew still applies.

use crate::duration::parse_duration;
use crate::source_error::SourceError;
use isochord_dsp::{Key, Param, Scale};
use std::path::Path;

/// One column of keyframes.
#[derive(Clone, Debug, PartialEq)]
pub struct Track {
    /// The parameter it steers.
    pub param: Param,
    /// `(seconds, value)`, strictly increasing in time.
    pub points: Vec<(f64, f32)>,
}

/// A key or scale change at a moment.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct KeyChange {
    /// Seconds from the start.
    pub time: f64,
    /// New tonic, if the row gives one.
    pub key: Option<Key>,
    /// New scale, if the row gives one.
    pub scale: Option<Scale>,
}

/// A parsed automation file.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Automation {
    /// One track per parameter column that has at least one keyframe.
    pub tracks: Vec<Track>,
    /// Key and scale changes in time order.
    pub key_changes: Vec<KeyChange>,
}

#[derive(Clone, Copy)]
enum Column {
    Param(Param),
    Key,
    Scale,
}

impl Automation {
    /// Reads and parses an automation file.
    pub fn load(path: &Path) -> Result<Self, SourceError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| SourceError::file(path, format!("cannot read automation file: {e}")))?;
        Self::parse(&text, path)
    }

    /// Parses automation CSV; `origin` names the file in errors.
    pub fn parse(text: &str, origin: &Path) -> Result<Self, SourceError> {
        let mut lines = text
            .lines()
            .enumerate()
            .map(|(i, l)| (i + 1, l.trim()))
            .filter(|(_, l)| !l.is_empty() && !l.starts_with('#'));
        let Some((header_line, header)) = lines.next() else {
            return Err(SourceError::file(
                origin,
                "empty automation file (expected a header such as `time,tempo,brightness`)",
            ));
        };
        let names: Vec<&str> = header.split(',').map(str::trim).collect();
        if names.first().copied() != Some("time") {
            return Err(SourceError::at_line(
                origin,
                header_line,
                format!("the first column must be `time`, not `{}`", names[0]),
            ));
        }
        let mut columns = Vec::new();
        for name in &names[1..] {
            let col = match *name {
                "key" => Column::Key,
                "scale" => Column::Scale,
                n => Column::Param(Param::from_name(n).ok_or_else(|| {
                    let known: Vec<&str> = Param::ALL.iter().map(|p| p.name()).collect();
                    SourceError::at_line(
                        origin,
                        header_line,
                        format!(
                            "unknown column `{n}` (known: {}, key, scale)",
                            known.join(", ")
                        ),
                    )
                    .with_field(n.to_string())
                })?),
            };
            if names[1..].iter().filter(|m| *m == name).count() > 1 {
                return Err(
                    SourceError::at_line(origin, header_line, "column appears twice")
                        .with_field(name.to_string()),
                );
            }
            columns.push(col);
        }
        let mut tracks: Vec<Track> = columns
            .iter()
            .filter_map(|c| match c {
                Column::Param(p) => Some(Track {
                    param: *p,
                    points: Vec::new(),
                }),
                _ => None,
            })
            .collect();
        let mut key_changes = Vec::new();
        let mut last_time = -1.0f64;
        for (line, row) in lines {
            let cells: Vec<&str> = row.split(',').map(str::trim).collect();
            if cells.len() > names.len() {
                return Err(SourceError::at_line(
                    origin,
                    line,
                    format!("{} cells but the header names {}", cells.len(), names.len()),
                ));
            }
            let err = |field: &str, msg: String| {
                SourceError::at_line(origin, line, msg).with_field(field.to_string())
            };
            let time = parse_duration(cells[0])
                .map_err(|e| err("time", e.0))?
                .as_secs_f64();
            if time <= last_time {
                return Err(err(
                    "time",
                    format!("times must increase ({} s follows {} s)", time, last_time),
                ));
            }
            last_time = time;
            let mut change = KeyChange {
                time,
                key: None,
                scale: None,
            };
            let mut track_idx = 0;
            for (col, cell) in columns
                .iter()
                .zip(cells[1..].iter().chain(std::iter::repeat(&"")))
            {
                match col {
                    Column::Param(p) => {
                        if !cell.is_empty() {
                            let v = parse_value(*p, cell).map_err(|m| err(p.name(), m))?;
                            tracks[track_idx].points.push((time, v));
                        }
                        track_idx += 1;
                    }
                    Column::Key if !cell.is_empty() => {
                        change.key = Some(cell.parse().map_err(|m| err("key", m))?);
                    }
                    Column::Scale if !cell.is_empty() => {
                        change.scale = Some(cell.parse().map_err(|m| err("scale", m))?);
                    }
                    _ => {}
                }
            }
            if change.key.is_some() || change.scale.is_some() {
                key_changes.push(change);
            }
        }
        if last_time < 0.0 {
            return Err(SourceError::at_line(
                origin,
                header_line,
                "the file has a header but no keyframes",
            ));
        }
        tracks.retain(|t| !t.points.is_empty());
        Ok(Self {
            tracks,
            key_changes,
        })
    }

    /// The value of `param` at `time` seconds, given its value `start` at 0 s; `None`
    /// if the file does not steer it.
    pub fn value_at(&self, param: Param, time: f64, start: f32) -> Option<f32> {
        let track = self.tracks.iter().find(|t| t.param == param)?;
        let pts = &track.points;
        let stepped = matches!(param, Param::Enabled(_));
        let i = pts.partition_point(|(t, _)| *t <= time);
        if i == pts.len() {
            return Some(pts[i - 1].1);
        }
        let (t1, v1) = pts[i];
        let (t0, v0) = if i == 0 { (0.0, start) } else { pts[i - 1] };
        if stepped {
            return Some(v0);
        }
        if t1 <= t0 {
            return Some(v1);
        }
        let a = ((time - t0) / (t1 - t0)) as f32;
        Some(v0 + (v1 - v0) * a)
    }
}

fn parse_value(param: Param, cell: &str) -> Result<f32, String> {
    if let Param::Enabled(_) = param {
        return match cell.to_ascii_lowercase().as_str() {
            "1" | "true" | "on" | "yes" => Ok(1.0),
            "0" | "false" | "off" | "no" => Ok(0.0),
            _ => Err(format!(
                "`{cell}` is not on/off (use 1/0, true/false or on/off)"
            )),
        };
    }
    let v: f32 = cell
        .parse()
        .map_err(|_| format!("`{cell}` is not a number"))?;
    if !v.is_finite() {
        return Err(format!("`{cell}` is not a finite number"));
    }
    let (lo, hi) = param.range();
    if v < lo || v > hi {
        return Err(format!("{cell} is outside {lo}..={hi}"));
    }
    Ok(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Automation, SourceError> {
        Automation::parse(text, Path::new("a.csv"))
    }

    #[test]
    fn interpolates_linearly_from_the_start_value_and_holds_after() {
        let a = parse("time,tempo,pad_enabled\n10s,80,\n20s,60,0\n").unwrap();
        assert_eq!(a.value_at(Param::Tempo, 0.0, 60.0), Some(60.0));
        assert_eq!(a.value_at(Param::Tempo, 5.0, 60.0), Some(70.0));
        assert_eq!(a.value_at(Param::Tempo, 15.0, 60.0), Some(70.0));
        assert_eq!(a.value_at(Param::Tempo, 99.0, 60.0), Some(60.0));
        assert_eq!(a.value_at(Param::Brightness, 5.0, 0.5), None);
        // stepped: stays at the start value until the keyframe
        assert_eq!(
            a.value_at(Param::Enabled(isochord_dsp::Layer::Pad), 19.0, 1.0),
            Some(1.0)
        );
        assert_eq!(
            a.value_at(Param::Enabled(isochord_dsp::Layer::Pad), 20.0, 1.0),
            Some(0.0)
        );
    }

    #[test]
    fn key_changes_are_read() {
        let a = parse("# arc\ntime,key,scale\n0,D,\n1m,A,dorian\n").unwrap();
        assert_eq!(a.key_changes.len(), 2);
        assert_eq!(a.key_changes[1].time, 60.0);
        assert_eq!(a.key_changes[1].scale, Some(Scale::Dorian));
    }

    #[test]
    fn errors_name_line_and_field() {
        let e = parse("time,tempo\n0,60\n1m,fast\n").unwrap_err();
        assert_eq!((e.line, e.field.as_deref()), (Some(3), Some("tempo")));
        assert!(e.to_string().contains("not a number"), "{e}");
        let e = parse("time,tempo\n0,60\n1m,300\n").unwrap_err();
        assert!(e.to_string().contains("outside 40..=120"), "{e}");
        let e = parse("time,tempo\n1m,60\n30s,60\n").unwrap_err();
        assert_eq!((e.line, e.field.as_deref()), (Some(3), Some("time")));
        let e = parse("time,tempi\n0,60\n").unwrap_err();
        assert_eq!(e.line, Some(1));
        assert!(e.to_string().contains("unknown column `tempi`"), "{e}");
        let e = parse("tempo,time\n").unwrap_err();
        assert_eq!(e.line, Some(1));
        let e = parse("time,tempo\n0,60,1\n").unwrap_err();
        assert_eq!(e.line, Some(2));
        let e = parse("time,key\n0,H\n").unwrap_err();
        assert_eq!(e.field.as_deref(), Some("key"));
        assert!(parse("").is_err());
        assert!(parse("time,tempo\n").is_err());
        let e = parse("time,tempo\n0,NaN\n").unwrap_err();
        assert!(e.to_string().contains("not a finite number"), "{e}");
    }
}
