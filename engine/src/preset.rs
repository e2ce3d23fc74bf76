//! Presets: a complete sound and its session defaults, as TOML.

use crate::protocol::Protocol;
use crate::source_error::SourceError;
use isochord_dsp::SoundscapeConfig;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// What a session is for.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Goal {
    /// Falling asleep.
    Sleep,
    /// Calming down.
    #[default]
    Relaxation,
    /// Steady, moderate arousal for work.
    Focus,
    /// Gentle activation.
    Uplift,
}

/// A preset: name, purpose, default duration and the soundscape.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Preset {
    /// Short name (`relax`).
    pub name: String,
    /// One line for listings.
    pub description: String,
    /// What the session is for.
    #[serde(default)]
    pub goal: Goal,
    /// Default session length.
    #[serde(with = "crate::duration::as_text")]
    pub duration: Duration,
    /// The sound.
    #[serde(default)]
    pub sound: SoundscapeConfig,
    /// How an adaptive session leads the listener (none: the preset only plays).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub protocol: Option<Protocol>,
}

/// The presets that ship inside the binary: `(name, TOML text)`.
pub const BUILTIN: [(&str, &str); 7] = [
    ("sleep", include_str!("../../presets/sleep.toml")),
    ("relax", include_str!("../../presets/relax.toml")),
    ("focus", include_str!("../../presets/focus.toml")),
    ("uplift", include_str!("../../presets/uplift.toml")),
    ("piano", include_str!("../../presets/piano.toml")),
    ("nocturne", include_str!("../../presets/nocturne.toml")),
    ("drift", include_str!("../../presets/drift.toml")),
];

impl Preset {
    /// Parses preset TOML; `origin` names the file in errors.
    pub fn parse(text: &str, origin: &Path) -> Result<Preset, SourceError> {
        let preset: Preset = toml::from_str(text).map_err(|e| {
            let err = SourceError::file(origin, e.message().trim().to_string());
            match e.span() {
                Some(span) => err.at_offset(text, span.start),
                None => err,
            }
        })?;
        if preset.name.trim().is_empty() {
            return Err(locate(
                SourceError::file(origin, "must not be empty").with_field("name"),
                text,
                &["name"],
            ));
        }
        if preset.duration < Duration::from_secs(1) {
            return Err(locate(
                SourceError::file(origin, "must be at least 1s").with_field("duration"),
                text,
                &["duration"],
            ));
        }
        if let Err(e) = preset.sound.validate() {
            let path: Vec<&str> = std::iter::once("sound").chain(e.field.split('.')).collect();
            let err = SourceError::file(origin, e.message).with_field(path.join("."));
            return Err(locate(err, text, &path));
        }
        if let Some(protocol) = &preset.protocol {
            let checked = protocol
                .validate()
                .map_err(|e| (e.field, e.message))
                .and_then(|()| {
                    (0..protocol.palettes.len()).try_for_each(|i| {
                        protocol
                            .apply_palette(&preset.sound, i)
                            .map(|_| ())
                            .map_err(|e| (format!("palettes.{i}.sound"), e.to_string()))
                    })
                });
            if let Err((field, message)) = checked {
                let path: Vec<&str> = std::iter::once("protocol")
                    .chain(field.split('.'))
                    .collect();
                let err = SourceError::file(origin, message).with_field(path.join("."));
                return Err(locate(err, text, &path));
            }
        }
        Ok(preset)
    }

    /// Reads and parses a preset file.
    pub fn load(path: &Path) -> Result<Preset, SourceError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| SourceError::file(path, format!("cannot read preset: {e}")))?;
        Self::parse(&text, path)
    }

    /// A built-in preset by name, or a preset file by path (anything with a `/` or
    /// ending in `.toml`).
    pub fn find(name_or_path: &str) -> Result<Preset, SourceError> {
        if let Some((name, text)) = BUILTIN.iter().find(|(n, _)| *n == name_or_path) {
            return Self::parse(text, &builtin_origin(name));
        }
        if name_or_path.contains('/') || name_or_path.ends_with(".toml") {
            return Self::load(Path::new(name_or_path));
        }
        let names: Vec<&str> = BUILTIN.iter().map(|(n, _)| *n).collect();
        Err(SourceError::file(
            Path::new(name_or_path),
            format!(
                "no such preset (built-in presets: {}; or give a path to a .toml file)",
                names.join(", ")
            ),
        ))
    }

    /// Every built-in preset, parsed.
    pub fn builtins() -> Vec<Preset> {
        BUILTIN
            .iter()
            .map(|(name, text)| {
                Self::parse(text, &builtin_origin(name)).expect("built-in presets are valid")
            })
            .collect()
    }

    /// The TOML text of a built-in preset.
    pub fn builtin_text(name: &str) -> Option<&'static str> {
        BUILTIN.iter().find(|(n, _)| *n == name).map(|(_, t)| *t)
    }
}

fn builtin_origin(name: &str) -> PathBuf {
    PathBuf::from(format!("presets/{name}.toml"))
}

/// Adds the line and column of the value at `path` (table keys, and array indices as
/// numbers: `loop.2.tempo`) in `text`.
pub(crate) fn locate(err: SourceError, text: &str, path: &[&str]) -> SourceError {
    use toml::de::DeValue;
    let Ok(doc) = toml::de::DeTable::parse(text) else {
        return err;
    };
    let mut value: Option<&toml::Spanned<DeValue>> = None;
    let mut span = None;
    for key in path {
        let next = match value.map(|v| v.get_ref()) {
            None => doc.get_ref().get(*key),
            Some(DeValue::Table(t)) => t.get(*key),
            Some(DeValue::Array(a)) => key.parse::<usize>().ok().and_then(|i| a.get(i)),
            Some(_) => None,
        };
        let Some(next) = next else { break };
        span = Some(next.span());
        value = Some(next);
    }
    match span {
        Some(s) => err.at_offset(text, s.start),
        None => err,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtins_parse_and_are_distinct() {
        let all = Preset::builtins();
        assert_eq!(all.len(), BUILTIN.len());
        for (i, a) in all.iter().enumerate() {
            for b in &all[i + 1..] {
                assert_ne!(a.sound, b.sound, "{} and {} sound the same", a.name, b.name);
            }
        }
    }

    #[test]
    fn unknown_field_names_file_line_and_field() {
        let text =
            "name = \"x\"\ndescription = \"y\"\nduration = \"1m\"\n[sound.pad]\ngian = 0.5\n";
        let e = Preset::parse(text, Path::new("bad.toml")).unwrap_err();
        let s = e.to_string();
        assert!(s.starts_with("bad.toml:5:"), "{s}");
        assert!(s.contains("gian"), "{s}");
    }

    #[test]
    fn out_of_range_value_names_its_line_and_field() {
        let text = "name = \"x\"\ndescription = \"y\"\nduration = \"1m\"\n\n[sound.pad]\ngain = 0.5\ncutoff_min_hz = 5\n";
        let e = Preset::parse(text, Path::new("bad.toml")).unwrap_err();
        assert_eq!(e.line, Some(7), "{e}");
        assert_eq!(e.field.as_deref(), Some("sound.pad.cutoff_min_hz"));
    }

    #[test]
    fn bad_duration_and_wrong_types_are_located() {
        let text = "name = \"x\"\ndescription = \"y\"\nduration = \"ten\"\n";
        let e = Preset::parse(text, Path::new("p.toml")).unwrap_err();
        assert_eq!(e.line, Some(3), "{e}");
        let text = "name = \"x\"\ndescription = \"y\"\nduration = \"1m\"\n[sound.start]\ntempo = \"fast\"\n";
        let e = Preset::parse(text, Path::new("p.toml")).unwrap_err();
        assert_eq!(e.line, Some(5), "{e}");
    }

    #[test]
    fn unknown_name_lists_the_builtins() {
        let e = Preset::find("nap").unwrap_err().to_string();
        assert!(e.contains("sleep, relax, focus, uplift"), "{e}");
    }
}
