//! Content manifests: a library's instruments and loops, as TOML.
//!
//! ```toml
//! [library]
//! name = "clinic"
//!
//! [[instrument]]
//! id = "grand"
//! tags = ["piano"]
//! samples = [{ note = "C4", file = "piano/C4.flac" }, { note = "F#4", file = "piano/F#4.flac" }]
//! # several velocity layers: { note = "C4", file = "piano/C4-soft.flac", velocity = 40 }
//!
//! [[loop]]
//! id = "arpeggio"
//! file = "loops/arpeggio-70.wav"
//! tempo = 70.0
//! beats = 8
//! key = "D"
//! scale = "pentatonic_major"
//! tuned = true
//! tags = ["piano", "calm"]
//! ```

use crate::preset::locate;
use crate::source_error::SourceError;
use isochord_dsp::{Key, Scale};
use serde::{Deserialize, Serialize};
use std::collections::HashSet;
use std::path::{Path, PathBuf};

/// A content library's manifest.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Manifest {
    /// About the library.
    pub library: LibraryInfo,
    /// Sampled instruments.
    pub instrument: Vec<InstrumentEntry>,
    /// Loops and textures.
    #[serde(rename = "loop")]
    pub loops: Vec<LoopEntry>,
}

/// About a library.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LibraryInfo {
    /// Its name.
    pub name: String,
    /// One line about it.
    pub description: String,
    /// Integrated loudness (EBU R128, LUFS) every item is brought to at load.
    pub loudness_lufs: f32,
}

impl Default for LibraryInfo {
    fn default() -> Self {
        Self {
            name: String::new(),
            description: String::new(),
            loudness_lufs: -23.0,
        }
    }
}

/// A note: a name (`C4`, `F#3`, `Eb5`; C4 = middle C) or a MIDI number.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Note {
    /// `C4`, `F#3`, `Bb2`.
    Name(String),
    /// MIDI note number (60 = C4).
    Midi(i64),
}

impl Note {
    /// The MIDI note number, if it is a valid note in 0..=127.
    pub fn midi(&self) -> Option<i32> {
        let m = match self {
            Note::Midi(m) => *m,
            Note::Name(s) => {
                let s = s.trim();
                let split = s.find(|c: char| c.is_ascii_digit() || c == '-')?;
                let (name, octave) = s.split_at(split);
                let key: Key = name.parse().ok()?;
                let octave: i64 = octave.parse().ok()?;
                (octave + 1) * 12 + key.pitch_class() as i64
            }
        };
        (0..=127).contains(&m).then_some(m as i32)
    }
}

/// One recorded note of an instrument.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NoteFile {
    /// The pitch recorded.
    pub note: Note,
    /// The file, relative to the manifest.
    pub file: PathBuf,
    /// How hard it was played (MIDI velocity 1..=127), for an instrument recorded in
    /// several velocity layers (default: the instrument's `velocity`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub velocity: Option<u8>,
}

/// A sampled instrument.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct InstrumentEntry {
    /// Unique within the library.
    pub id: String,
    /// Display name.
    pub name: String,
    /// Tags presets choose it by.
    pub tags: Vec<String>,
    /// How bright it sounds, 0..1.
    pub brightness: f32,
    /// How energetic it sounds, 0..1.
    pub energy: f32,
    /// Seconds of each sample used (the rest is faded and dropped at load).
    pub length_s: f32,
    /// Its loudness if already known (LUFS); measured at load otherwise.
    pub loudness_lufs: Option<f32>,
    /// Whether each sample's pitch is measured at load and played back in equal
    /// temperament (A4 = 440 Hz) — correcting a piano's stretch tuning — or taken to be
    /// its nominal note (`false`).
    pub retune: bool,
    /// Credit line.
    pub attribution: String,
    /// Licence (SPDX identifier where there is one).
    pub licence: String,
    /// The recorded notes.
    pub samples: Vec<NoteFile>,
    /// Key-release noises, by note.
    pub releases: Vec<NoteFile>,
    /// Velocity (1..=127) of samples that do not give their own. Energy picks between
    /// velocity layers: soft notes from soft samples, with their darker tone.
    pub velocity: u8,
}

impl Default for InstrumentEntry {
    fn default() -> Self {
        Self {
            id: String::new(),
            name: String::new(),
            tags: Vec::new(),
            brightness: 0.5,
            energy: 0.5,
            length_s: 10.0,
            loudness_lufs: None,
            retune: true,
            attribution: String::new(),
            licence: String::new(),
            samples: Vec::new(),
            releases: Vec::new(),
            velocity: 100,
        }
    }
}

/// How a loop follows tempo, as written in a manifest.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FollowMode {
    /// Re-trigger each beat's slice on the beat (keeps pitch; the default for tuned
    /// loops).
    Slices,
    /// Play faster or slower, pitch moving with it (the default for untuned loops).
    Varispeed,
}

/// A loop (with a tempo) or a texture (without).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LoopEntry {
    /// Unique within the library.
    pub id: String,
    /// The file, relative to the manifest.
    pub file: PathBuf,
    /// BPM of the recording (none for a texture).
    pub tempo: Option<f32>,
    /// Beats between the loop points (needed with a tempo).
    pub beats: Option<u32>,
    /// Tonic of tuned material; it is transposed (at most a tritone) to fit a preset's
    /// key.
    pub key: Option<Key>,
    /// Scale of tuned material, if known: it is then transposed to where most of its
    /// notes lie in the preset's scale (a major loop under a minor preset moves to the
    /// relative major), not simply tonic to tonic.
    pub scale: Option<Scale>,
    /// Whether it has a pitch that must fit the music.
    pub tuned: bool,
    /// How it follows tempo (default: slices when tuned, varispeed when not).
    pub follow: Option<FollowMode>,
    /// Loop start, seconds into the file.
    pub loop_start_s: f32,
    /// Loop end, seconds into the file (default: its end).
    pub loop_end_s: Option<f32>,
    /// Tags presets choose it by.
    pub tags: Vec<String>,
    /// How bright it sounds, 0..1.
    pub brightness: f32,
    /// How energetic it sounds, 0..1.
    pub energy: f32,
    /// Its loudness if already known (LUFS); measured at load otherwise.
    pub loudness_lufs: Option<f32>,
    /// Whether it streams from disk instead of being held in memory (default: when the
    /// file is longer than two minutes). A streamed item plays at its recorded speed,
    /// whatever the tempo.
    pub stream: Option<bool>,
    /// Credit line.
    pub attribution: String,
    /// Licence (SPDX identifier where there is one).
    pub licence: String,
}

impl Default for LoopEntry {
    fn default() -> Self {
        Self {
            id: String::new(),
            file: PathBuf::new(),
            tempo: None,
            beats: None,
            key: None,
            scale: None,
            tuned: false,
            follow: None,
            loop_start_s: 0.0,
            loop_end_s: None,
            tags: Vec::new(),
            brightness: 0.5,
            energy: 0.5,
            loudness_lufs: None,
            stream: None,
            attribution: String::new(),
            licence: String::new(),
        }
    }
}

impl LoopEntry {
    /// How it follows tempo, defaults applied (none for a texture).
    pub fn follow_mode(&self) -> Option<FollowMode> {
        self.tempo?;
        Some(self.follow.unwrap_or(if self.tuned {
            FollowMode::Slices
        } else {
            FollowMode::Varispeed
        }))
    }
}

fn has_all(tags: &[String], wanted: &[String]) -> bool {
    wanted
        .iter()
        .all(|w| tags.iter().any(|t| t.eq_ignore_ascii_case(w)))
}

impl InstrumentEntry {
    /// Whether it carries every tag in `wanted` (case-insensitive).
    pub fn has_tags(&self, wanted: &[String]) -> bool {
        has_all(&self.tags, wanted)
    }
}

impl LoopEntry {
    /// Whether it carries every tag in `wanted` (case-insensitive).
    pub fn has_tags(&self, wanted: &[String]) -> bool {
        has_all(&self.tags, wanted)
    }
}

type Offence = (String, String);

fn range(field: String, v: f32, lo: f32, hi: f32) -> Result<(), Offence> {
    if v.is_finite() && (lo..=hi).contains(&v) {
        Ok(())
    } else {
        Err((field, format!("{v} is outside {lo}..={hi}")))
    }
}

impl Manifest {
    /// Parses manifest TOML; `origin` names the file in errors, which give the line and
    /// field (`instrument.0.samples.3.note`).
    pub fn parse(text: &str, origin: &Path) -> Result<Manifest, SourceError> {
        let manifest: Manifest = toml::from_str(text).map_err(|e| {
            let err = SourceError::file(origin, e.message().trim().to_string());
            match e.span() {
                Some(span) => err.at_offset(text, span.start),
                None => err,
            }
        })?;
        if let Err((field, message)) = manifest.validate() {
            let path: Vec<&str> = field.split('.').collect();
            let err = SourceError::file(origin, message).with_field(field.clone());
            return Err(locate(err, text, &path));
        }
        Ok(manifest)
    }

    /// Reads and parses a manifest file.
    pub fn load(path: &Path) -> Result<Manifest, SourceError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| SourceError::file(path, format!("cannot read manifest: {e}")))?;
        Self::parse(&text, path)
    }

    fn validate(&self) -> Result<(), Offence> {
        range(
            "library.loudness_lufs".into(),
            self.library.loudness_lufs,
            -60.0,
            -6.0,
        )?;
        let mut ids = HashSet::new();
        for (i, inst) in self.instrument.iter().enumerate() {
            let at = |f: &str| format!("instrument.{i}.{f}");
            if inst.id.trim().is_empty() {
                return Err((at("id"), "must not be empty".into()));
            }
            if !ids.insert(inst.id.as_str()) {
                return Err((at("id"), format!("`{}` is used twice", inst.id)));
            }
            range(at("brightness"), inst.brightness, 0.0, 1.0)?;
            range(at("energy"), inst.energy, 0.0, 1.0)?;
            range(at("length_s"), inst.length_s, 0.1, 600.0)?;
            range(at("velocity"), inst.velocity as f32, 1.0, 127.0)?;
            if let Some(l) = inst.loudness_lufs {
                range(at("loudness_lufs"), l, -70.0, 0.0)?;
            }
            if inst.samples.is_empty() {
                return Err((at("samples"), "needs at least one sample".into()));
            }
            for (list, notes) in [("samples", &inst.samples), ("releases", &inst.releases)] {
                for (k, n) in notes.iter().enumerate() {
                    if n.note.midi().is_none() {
                        return Err((
                            at(&format!("{list}.{k}.note")),
                            format!(
                                "{:?} is not a note (a name such as C4, F#3, Eb5, or a MIDI \
                                 number 0..=127)",
                                n.note
                            ),
                        ));
                    }
                    if n.file.as_os_str().is_empty() {
                        return Err((at(&format!("{list}.{k}.file")), "must not be empty".into()));
                    }
                    if let Some(v) = n.velocity {
                        range(at(&format!("{list}.{k}.velocity")), v as f32, 1.0, 127.0)?;
                    }
                }
            }
        }
        for (i, l) in self.loops.iter().enumerate() {
            let at = |f: &str| format!("loop.{i}.{f}");
            if l.id.trim().is_empty() {
                return Err((at("id"), "must not be empty".into()));
            }
            if !ids.insert(l.id.as_str()) {
                return Err((at("id"), format!("`{}` is used twice", l.id)));
            }
            if l.file.as_os_str().is_empty() {
                return Err((at("file"), "must not be empty".into()));
            }
            range(at("brightness"), l.brightness, 0.0, 1.0)?;
            range(at("energy"), l.energy, 0.0, 1.0)?;
            range(at("loop_start_s"), l.loop_start_s, 0.0, 86_400.0)?;
            if let Some(end) = l.loop_end_s {
                range(at("loop_end_s"), end, l.loop_start_s + 0.05, 86_400.0)?;
            }
            if let Some(x) = l.loudness_lufs {
                range(at("loudness_lufs"), x, -70.0, 0.0)?;
            }
            match (l.tempo, l.beats) {
                (Some(t), Some(b)) => {
                    range(at("tempo"), t, 20.0, 300.0)?;
                    range(at("beats"), b as f32, 1.0, 1024.0)?;
                }
                (Some(_), None) => {
                    return Err((at("beats"), "a loop with a tempo needs its beats".into()))
                }
                (None, Some(_)) => {
                    return Err((at("tempo"), "a loop with beats needs its tempo".into()))
                }
                (None, None) => {
                    if l.follow.is_some() {
                        return Err((
                            at("follow"),
                            "a texture (no tempo) does not follow tempo".into(),
                        ));
                    }
                }
            }
            if l.tuned && l.key.is_none() {
                return Err((at("key"), "tuned material needs its key".into()));
            }
            if l.scale.is_some() && l.key.is_none() {
                return Err((at("scale"), "a scale needs its key".into()));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notes_parse_by_name_and_number() {
        assert_eq!(Note::Name("C4".into()).midi(), Some(60));
        assert_eq!(Note::Name("A0".into()).midi(), Some(21));
        assert_eq!(Note::Name("F#3".into()).midi(), Some(54));
        assert_eq!(Note::Name("D#3".into()).midi(), Some(51));
        assert_eq!(Note::Name("Eb5".into()).midi(), Some(75));
        assert_eq!(Note::Midi(69).midi(), Some(69));
        assert_eq!(Note::Name("H2".into()).midi(), None);
        assert_eq!(Note::Midi(200).midi(), None);
    }

    #[test]
    fn offences_name_line_and_field() {
        let text = "[library]\nname = \"x\"\n\n[[loop]]\nid = \"a\"\nfile = \"a.wav\"\n\n[[loop]]\nid = \"b\"\nfile = \"b.wav\"\ntempo = 70.0\n";
        let e = Manifest::parse(text, Path::new("m.toml")).unwrap_err();
        assert_eq!(e.field.as_deref(), Some("loop.1.beats"), "{e}");
        assert_eq!(e.line, Some(8), "{e}");

        let text = "[[instrument]]\nid = \"p\"\nsamples = [\n  { note = \"C4\", file = \"c.ogg\" },\n  { note = \"Q9\", file = \"q.ogg\" },\n]\n";
        let e = Manifest::parse(text, Path::new("m.toml")).unwrap_err();
        assert_eq!(
            e.field.as_deref(),
            Some("instrument.0.samples.1.note"),
            "{e}"
        );
        assert_eq!(e.line, Some(5), "{e}");

        let text = "[[loop]]\nid = \"a\"\nfile = \"a.wav\"\nbrightnes = 0.3\n";
        let e = Manifest::parse(text, Path::new("m.toml")).unwrap_err();
        assert_eq!(e.line, Some(4), "{e}");
        assert!(e.message.contains("brightnes"), "{e}");
    }
}
