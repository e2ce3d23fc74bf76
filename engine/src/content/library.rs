//! Content libraries: manifests plus the audio they name, loaded for a preset.

use super::bundled;
use super::decode::{decode_bytes, decode_file, DecodeError, Decoded, PacketReader};
use super::loudness::{gain_to, integrated_lufs};
use super::manifest::{FollowMode, InstrumentEntry, LoopEntry, Manifest, NoteFile};
use super::pitch::measure_pitch;
use super::resample::{resample, resample_loop};
use super::stream::{file_loudness, FileStream, SetStream, StreamSet};
use crate::source_error::SourceError;
use isochord_dsp::content::{Audio, Follow, Instrument, LoopItem, Zone};
use isochord_dsp::layers::MAX_ITEMS;
use isochord_dsp::music::{midi_hz, transposition};
use isochord_dsp::{Content, Key, Scale, SoundscapeConfig};
use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// Seconds of fade at the end of a sample cut short by `length_s`.
const CUT_FADE_S: f64 = 0.3;
/// Seconds of each zone measured for an instrument's loudness (the onset and body).
const ZONE_MEASURE_S: f64 = 3.0;
/// The part of a sample its pitch is measured on, seconds (after the hammer's noise).
const PITCH_WINDOW_S: (f64, f64) = (0.1, 1.6);
/// Loops longer than this stream from disk unless their manifest says otherwise.
pub const STREAM_ABOVE_S: f64 = 120.0;
/// How far from its nominal note a recorded pitch is searched for, cents.
const PITCH_SEARCH_CENTS: f32 = 60.0;

/// Where a library's files are.
#[derive(Clone, Debug)]
enum Base {
    /// Compiled into the binary.
    Bundled,
    /// Beside the manifest.
    Dir(PathBuf),
}

/// One library: its manifest and where its files are.
#[derive(Clone, Debug)]
struct Library {
    manifest: Manifest,
    base: Base,
    origin: PathBuf,
}

impl Library {
    fn path_of(&self, file: &Path) -> PathBuf {
        match &self.base {
            Base::Bundled => Path::new(bundled::ORIGIN).join(file),
            Base::Dir(d) => d.join(file),
        }
    }

    fn decode(&self, file: &Path, max_seconds: Option<f64>) -> Result<Decoded, SourceError> {
        let shown = self.path_of(file);
        let result = match &self.base {
            Base::Bundled => {
                let key = file.to_string_lossy();
                match bundled::file(&key) {
                    Some(bytes) => {
                        let ext = file.extension().and_then(|e| e.to_str());
                        decode_bytes(bytes, ext, max_seconds)
                    }
                    None => Err(DecodeError::Unreadable(
                        "not among the bundled files".into(),
                    )),
                }
            }
            Base::Dir(_) => decode_file(&shown, max_seconds),
        };
        result
            .map(Decoded::into_stereo)
            .map_err(|e| SourceError::file(&shown, e.to_string()))
    }

    /// Decodes `file` (at most `max_seconds`) as stereo at `rate`.
    fn decode_at(
        &self,
        file: &Path,
        max_seconds: Option<f64>,
        rate: u32,
    ) -> Result<Vec<Vec<f32>>, SourceError> {
        let d = self.decode(file, max_seconds)?;
        resample(&d.channels, d.rate, rate, 1.0)
            .map_err(|e| SourceError::file(&self.path_of(file), format!("cannot resample: {e}")))
    }
}

/// Something left out of a session's content, and why.
#[derive(Clone, Debug, PartialEq)]
pub struct ContentNotice {
    /// What was left out (`loop piano-wash-d`, `instrument salamander-grand, note C4`).
    pub item: String,
    /// Why (naming the file where there is one).
    pub error: SourceError,
}

impl fmt::Display for ContentNotice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} left out: {}", self.item, self.error)
    }
}

/// What was loaded, for logs and reports.
#[derive(Clone, Debug, PartialEq)]
pub struct LoadedItem {
    /// `instrument` or `loop`.
    pub kind: &'static str,
    /// Its id in its library.
    pub id: String,
    /// The library's name.
    pub library: String,
    /// Seconds of audio held (all zones for an instrument).
    pub seconds: f64,
    /// Bytes of audio held.
    pub bytes: usize,
    /// Loudness before normalisation, LUFS (none when too short to measure).
    pub loudness_lufs: Option<f64>,
    /// Gain applied to reach the library's loudness target, dB.
    pub gain_db: f64,
    /// Semitones it was transposed to fit the preset's key.
    pub transposed: i32,
    /// Credit line.
    pub attribution: String,
}

/// A soundscape's content, loaded: what plays, what was left out, what was loaded.
#[derive(Clone, Debug, Default)]
pub struct LoadedContent {
    /// Ready to hand to [`isochord_dsp::Soundscape::with_content`].
    pub content: Content,
    /// What was asked for but left out (the session plays without it).
    pub notices: Vec<ContentNotice>,
    /// What was loaded.
    pub items: Vec<LoadedItem>,
    /// The streams of its streamed recordings: watch them with
    /// [`StreamSet::failures`]. They stop when this and the content are dropped.
    pub streams: StreamSet,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct CacheKey {
    origin: PathBuf,
    id: String,
    rate: u32,
    semitones: i32,
}

#[derive(Clone)]
enum Cached {
    Instrument(Arc<Instrument>, LoadedItem, Vec<ContentNotice>),
    Loop(Arc<LoopItem>, LoadedItem),
    /// A streamed loop: bound to each load's own [`StreamSet`] when it is used.
    Streamed(Arc<LoopItem>, FileStream, LoadedItem),
}

/// The content libraries a session draws on: any given manifests first, then the bundled
/// library. Loading decodes (symphonia), resamples to the engine's rate (rubato) and
/// normalises loudness (EBU R128) on the calling thread, and keeps the result for later
/// loads at the same rate. Control thread.
pub struct ContentLibrary {
    libraries: Vec<Library>,
    cache: Mutex<HashMap<CacheKey, Cached>>,
}

impl fmt::Debug for ContentLibrary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ContentLibrary")
            .field("libraries", &self.libraries.len())
            .finish()
    }
}

impl Default for ContentLibrary {
    fn default() -> Self {
        Self::bundled()
    }
}

impl ContentLibrary {
    /// The bundled library alone.
    pub fn bundled() -> Self {
        let manifest = Manifest::parse(
            bundled::MANIFEST,
            &Path::new(bundled::ORIGIN).join("manifest.toml"),
        )
        .expect("the bundled manifest is valid");
        Self {
            libraries: vec![Library {
                manifest,
                base: Base::Bundled,
                origin: PathBuf::from(bundled::ORIGIN),
            }],
            cache: Mutex::new(HashMap::new()),
        }
    }

    /// No libraries at all (every layer synthesised).
    pub fn empty() -> Self {
        Self {
            libraries: Vec::new(),
            cache: Mutex::new(HashMap::new()),
        }
    }

    /// Adds the library described by the manifest at `path`, searched before those added
    /// earlier and before the bundled one. Its files are found relative to it.
    pub fn add_manifest(&mut self, path: &Path) -> Result<(), SourceError> {
        let manifest = Manifest::load(path)?;
        let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
        self.libraries.insert(
            0,
            Library {
                manifest,
                base: Base::Dir(dir),
                origin: path.to_path_buf(),
            },
        );
        Ok(())
    }

    /// Names of the libraries, in search order.
    pub fn names(&self) -> Vec<String> {
        self.libraries
            .iter()
            .map(|l| {
                if l.manifest.library.name.is_empty() {
                    l.origin.display().to_string()
                } else {
                    l.manifest.library.name.clone()
                }
            })
            .collect()
    }

    /// Every instrument, with the library it is in, in search order.
    pub fn instrument_entries(&self) -> Vec<(String, &InstrumentEntry)> {
        self.libraries
            .iter()
            .zip(self.names())
            .flat_map(|(l, n)| l.manifest.instrument.iter().map(move |i| (n.clone(), i)))
            .collect()
    }

    /// Every loop, with the library each is in, in search order.
    pub fn loop_entries(&self) -> Vec<(String, &LoopEntry)> {
        self.libraries
            .iter()
            .zip(self.names())
            .flat_map(|(l, n)| l.manifest.loops.iter().map(move |i| (n.clone(), i)))
            .collect()
    }

    /// Loads what `config` asks for at `sample_rate`: the instruments its pulse and
    /// melody name by tag and the loops its loops layer names by tag (tuned loops
    /// transposed to its key). Anything missing, damaged or unsupported is left out with
    /// a notice naming the file; the rest loads. Control thread (decodes and resamples;
    /// seconds for a large library, milliseconds once cached).
    pub fn load_for(&self, config: &SoundscapeConfig, sample_rate: u32) -> LoadedContent {
        let mut out = LoadedContent::default();
        let instrument_for = |tags: &[String], layer: &str, out: &mut LoadedContent| {
            if tags.is_empty() {
                return None;
            }
            match self.find_instrument(tags) {
                Some((lib, entry)) => self.instrument(lib, entry, sample_rate, out),
                None => {
                    out.notices.push(ContentNotice {
                        item: format!("{layer}.instrument {tags:?}"),
                        error: SourceError::file(
                            Path::new("content"),
                            format!(
                                "no instrument in the libraries ({}) carries every tag; the \
                                 synthesised bell plays",
                                self.names().join(", ")
                            ),
                        ),
                    });
                    None
                }
            }
        };
        out.content.pulse = instrument_for(&config.pulse.instrument, "pulse", &mut out);
        out.content.melody = if config.melody.instrument == config.pulse.instrument {
            out.content.pulse.clone()
        } else {
            instrument_for(&config.melody.instrument, "melody", &mut out)
        };
        if !config.loops.tags.is_empty() {
            let mut found = 0;
            for lib in &self.libraries {
                for entry in lib
                    .manifest
                    .loops
                    .iter()
                    .filter(|l| l.has_tags(&config.loops.tags))
                {
                    if found >= MAX_ITEMS {
                        break;
                    }
                    found += 1;
                    if let Some(item) = self.loop_item(
                        lib,
                        entry,
                        (config.key, config.scale),
                        sample_rate,
                        &mut out,
                    ) {
                        if !item.fits(config.key, config.scale) {
                            out.notices.push(ContentNotice {
                                item: format!("loop {}", entry.id),
                                error: SourceError::file(
                                    &lib.path_of(&entry.file),
                                    format!(
                                        "streamed as recorded in {}, it does not fit {} {}: it \
                                         plays only while the key fits",
                                        entry.key.unwrap_or_default(),
                                        config.key,
                                        config.scale
                                    ),
                                ),
                            });
                        }
                        out.content.loops.push(item);
                    }
                }
            }
            if found == 0 {
                out.notices.push(ContentNotice {
                    item: format!("loops {:?}", config.loops.tags),
                    error: SourceError::file(
                        Path::new("content"),
                        format!(
                            "no loop in the libraries ({}) carries every tag; the loops layer is \
                             silent",
                            self.names().join(", ")
                        ),
                    ),
                });
            }
        }
        out
    }

    /// Loads every instrument and loop of every library at `sample_rate` (loops in their
    /// own key), for checking a library: what loads, its loudness and size, and what
    /// fails and why. Control thread.
    pub fn load_all(&self, sample_rate: u32) -> LoadedContent {
        let mut out = LoadedContent::default();
        for lib in &self.libraries {
            for entry in &lib.manifest.instrument {
                if let Some(i) = self.instrument(lib, entry, sample_rate, &mut out) {
                    out.content.pulse.get_or_insert(i);
                }
            }
            for entry in &lib.manifest.loops {
                let own = (
                    entry.key.unwrap_or_default(),
                    entry.scale.unwrap_or_default(),
                );
                if let Some(l) = self.loop_item(lib, entry, own, sample_rate, &mut out) {
                    out.content.loops.push(l);
                }
            }
        }
        out
    }

    fn find_instrument(&self, tags: &[String]) -> Option<(&Library, &InstrumentEntry)> {
        self.libraries.iter().find_map(|lib| {
            lib.manifest
                .instrument
                .iter()
                .find(|i| i.has_tags(tags))
                .map(|i| (lib, i))
        })
    }

    fn cached(&self, key: &CacheKey) -> Option<Cached> {
        self.cache.lock().ok()?.get(key).cloned()
    }

    fn remember(&self, key: CacheKey, value: Cached) {
        if let Ok(mut c) = self.cache.lock() {
            c.insert(key, value);
        }
    }

    fn instrument(
        &self,
        lib: &Library,
        entry: &InstrumentEntry,
        rate: u32,
        out: &mut LoadedContent,
    ) -> Option<Arc<Instrument>> {
        let key = CacheKey {
            origin: lib.origin.clone(),
            id: entry.id.clone(),
            rate,
            semitones: 0,
        };
        if let Some(Cached::Instrument(i, item, notices)) = self.cached(&key) {
            out.items.push(item);
            out.notices.extend(notices);
            return Some(i);
        }
        let mut notices = Vec::new();
        let what = |n: &NoteFile| format!("instrument {}, note {}", entry.id, note_name(n));
        // (pitch, velocity 0..1, audio)
        let mut zones: Vec<(f32, f32, Vec<Vec<f32>>)> = Vec::new();
        for n in &entry.samples {
            let velocity = n.velocity.unwrap_or(entry.velocity) as f32 / 127.0;
            let midi = n.note.midi().unwrap_or(60);
            match lib.decode_at(&n.file, Some(entry.length_s as f64), rate) {
                Ok(mut ch) => {
                    fade_tail(&mut ch, rate, entry.length_s as f64);
                    let nominal = midi_hz(midi as f32);
                    let hz = if entry.retune {
                        recorded_pitch(&ch, rate, nominal).unwrap_or(nominal)
                    } else {
                        nominal
                    };
                    zones.push((hz, velocity, ch));
                }
                Err(error) => notices.push(ContentNotice {
                    item: what(n),
                    error,
                }),
            }
        }
        if zones.is_empty() {
            out.notices.extend(notices);
            return None;
        }
        zones.sort_by(|a, b| a.1.total_cmp(&b.1).then(a.0.total_cmp(&b.0)));
        let mut releases: Vec<(f32, Vec<Vec<f32>>)> = Vec::new();
        for n in &entry.releases {
            let midi = n.note.midi().unwrap_or(60);
            match lib.decode_at(&n.file, Some(entry.length_s as f64), rate) {
                Ok(ch) => releases.push((midi_hz(midi as f32), ch)),
                Err(error) => notices.push(ContentNotice {
                    item: format!("{} (release)", what(n)),
                    error,
                }),
            }
        }
        // one gain for the whole instrument: the median zone's loudness, so the natural
        // balance across the keyboard stays
        let measured = match entry.loudness_lufs {
            Some(l) => Some(l as f64),
            None => {
                let mut l: Vec<f64> = zones
                    .iter()
                    .filter_map(|(_, _, ch)| {
                        let n = (ZONE_MEASURE_S * rate as f64) as usize;
                        let head: Vec<Vec<f32>> =
                            ch.iter().map(|c| c[..n.min(c.len())].to_vec()).collect();
                        integrated_lufs(&head, rate)
                    })
                    .collect();
                l.sort_by(f64::total_cmp);
                l.get(l.len() / 2).copied()
            }
        };
        let target = lib.manifest.library.loudness_lufs as f64;
        let gain = measured.map_or(1.0, |m| gain_to(m, target));
        let nearest_release = |hz: f32| {
            releases
                .iter()
                .min_by(|a, b| (a.0 / hz).log2().abs().total_cmp(&(b.0 / hz).log2().abs()))
                .filter(|r| (r.0 / hz).log2().abs() < 0.5)
                .map(|r| interleave(&r.1, gain))
        };
        let instrument = Instrument {
            id: entry.id.clone(),
            zones: zones
                .iter()
                .map(|(hz, velocity, ch)| Zone {
                    hz: *hz,
                    velocity: *velocity,
                    audio: interleave(ch, gain),
                    release: nearest_release(*hz),
                })
                .collect(),
        };
        let seconds = zones
            .iter()
            .map(|(_, _, c)| c[0].len() as f64 / rate as f64)
            .sum();
        let item = LoadedItem {
            kind: "instrument",
            id: entry.id.clone(),
            library: lib.manifest.library.name.clone(),
            seconds,
            bytes: instrument.bytes(),
            loudness_lufs: measured,
            gain_db: 20.0 * (gain as f64).log10(),
            transposed: 0,
            attribution: entry.attribution.clone(),
        };
        let instrument = Arc::new(instrument);
        self.remember(
            key,
            Cached::Instrument(instrument.clone(), item.clone(), notices.clone()),
        );
        out.items.push(item);
        out.notices.extend(notices);
        Some(instrument)
    }

    fn loop_item(
        &self,
        lib: &Library,
        entry: &LoopEntry,
        (key, scale): (Key, Scale),
        rate: u32,
        out: &mut LoadedContent,
    ) -> Option<Arc<LoopItem>> {
        let semitones = match (entry.tuned, entry.key) {
            (true, Some(k)) => transposition(k, entry.scale, key, scale),
            _ => 0,
        };
        let cache_key = CacheKey {
            origin: lib.origin.clone(),
            id: entry.id.clone(),
            rate,
            semitones,
        };
        match self.cached(&cache_key) {
            Some(Cached::Loop(l, item)) => {
                out.items.push(item);
                return Some(l);
            }
            Some(Cached::Streamed(l, source, item)) => {
                out.items.push(item);
                return Some(bind(&l, source, &out.streams));
            }
            _ => {}
        }
        let path = lib.path_of(&entry.file);
        let fail = |error: SourceError, out: &mut LoadedContent| {
            out.notices.push(ContentNotice {
                item: format!("loop {}", entry.id),
                error,
            });
            None
        };
        if let Base::Dir(_) = lib.base {
            let stream = match entry.stream {
                Some(s) => s,
                None => match PacketReader::open_file(&path) {
                    Ok(r) => r
                        .frames()
                        .is_some_and(|f| f as f64 / r.rate() as f64 > STREAM_ABOVE_S),
                    Err(e) => return fail(SourceError::file(&path, e.to_string()), out),
                },
            };
            if stream {
                return match self.streamed(lib, entry, &path, rate) {
                    Ok((item, source, loaded)) => {
                        let item = Arc::new(item);
                        let bound = bind(&item, source.clone(), &out.streams);
                        self.remember(cache_key, Cached::Streamed(item, source, loaded.clone()));
                        out.items.push(loaded);
                        Some(bound)
                    }
                    Err(e) => fail(e, out),
                };
            }
        }
        let decoded = match lib.decode(&entry.file, None) {
            Ok(d) => d,
            Err(e) => return fail(e, out),
        };
        let from = decoded.rate;
        let total = decoded.frames();
        let start = (entry.loop_start_s as f64 * from as f64).round() as usize;
        let end = entry
            .loop_end_s
            .map_or(total, |e| (e as f64 * from as f64).round() as usize);
        if end > total || start + 16 >= end {
            let msg = format!(
                "loop points {:.3}–{:.3} s lie outside the file's {:.3} s",
                entry.loop_start_s,
                end as f64 / from as f64,
                total as f64 / from as f64
            );
            return fail(SourceError::file(&path, msg), out);
        }
        let pitch = 2f64.powf(semitones as f64 / 12.0);
        let ch = match resample_loop(&decoded.channels, start, end, from, rate, pitch) {
            Ok(c) => c,
            Err(e) => {
                return fail(
                    SourceError::file(&path, format!("cannot resample: {e}")),
                    out,
                )
            }
        };
        let measured = entry
            .loudness_lufs
            .map(|l| l as f64)
            .or_else(|| integrated_lufs(&ch, rate));
        let gain = measured.map_or(1.0, |m| {
            gain_to(m, lib.manifest.library.loudness_lufs as f64)
        });
        let audio = interleave(&ch, gain);
        let len = audio.frames();
        let follow = match entry.follow_mode() {
            None => Follow::Free,
            Some(FollowMode::Slices) => Follow::Slices,
            Some(FollowMode::Varispeed) => Follow::Varispeed,
        };
        let item = LoopItem {
            id: entry.id.clone(),
            audio,
            start: 0,
            end: len,
            beats: entry.beats.filter(|_| entry.tempo.is_some()).unwrap_or(0),
            follow,
            brightness: entry.brightness,
            energy: entry.energy,
            key: entry.key.filter(|_| entry.tuned).map(|k| {
                (
                    Key::new((k.pitch_class() as i32 + semitones).rem_euclid(12) as u8),
                    entry.scale,
                )
            }),
            stream: None,
        };
        let loaded = LoadedItem {
            kind: "loop",
            id: entry.id.clone(),
            library: lib.manifest.library.name.clone(),
            seconds: len as f64 / rate as f64,
            bytes: item.audio.bytes(),
            loudness_lufs: measured,
            gain_db: 20.0 * (gain as f64).log10(),
            transposed: semitones,
            attribution: entry.attribution.clone(),
        };
        let item = Arc::new(item);
        self.remember(cache_key, Cached::Loop(item.clone(), loaded.clone()));
        out.items.push(loaded);
        Some(item)
    }
}

impl ContentLibrary {
    /// A loop that streams from disk: its loudness measured by a decoding pass (unless
    /// the manifest gives it), nothing held but the stream's ring while it plays.
    fn streamed(
        &self,
        lib: &Library,
        entry: &LoopEntry,
        path: &Path,
        rate: u32,
    ) -> Result<(LoopItem, FileStream, LoadedItem), SourceError> {
        let err = |e: DecodeError| SourceError::file(path, e.to_string());
        let probe = PacketReader::open_file(path).map_err(err)?;
        let from = probe.rate() as f64;
        let start = (entry.loop_start_s as f64 * from).round() as u64;
        let end = entry.loop_end_s.map(|e| (e as f64 * from).round() as u64);
        let (measured, frames) = match entry.loudness_lufs {
            Some(l) => (Some(l as f64), probe.frames().unwrap_or(0)),
            None => file_loudness(path, start, end).map_err(err)?,
        };
        if frames <= start + 16 && entry.loudness_lufs.is_none() {
            return Err(SourceError::file(path, "the loop start lies past the end"));
        }
        let gain = measured.map_or(1.0, |m| {
            gain_to(m, lib.manifest.library.loudness_lufs as f64)
        });
        let source = FileStream {
            path: path.to_path_buf(),
            to_rate: rate,
            gain,
            start,
            end,
        };
        let loaded = LoadedItem {
            kind: "loop (streamed)",
            id: entry.id.clone(),
            library: lib.manifest.library.name.clone(),
            seconds: (end.unwrap_or(frames).saturating_sub(start)) as f64 / from,
            bytes: source.ring_bytes(),
            loudness_lufs: measured,
            gain_db: 20.0 * (gain as f64).log10(),
            transposed: 0,
            attribution: entry.attribution.clone(),
        };
        let item = LoopItem {
            id: entry.id.clone(),
            audio: Audio::default(),
            start: 0,
            end: 0,
            beats: 0,
            follow: Follow::Free,
            brightness: entry.brightness,
            energy: entry.energy,
            // streamed as recorded, never transposed
            key: entry.key.filter(|_| entry.tuned).map(|k| (k, entry.scale)),
            stream: None,
        };
        Ok((item, source, loaded))
    }
}

/// A streamed loop whose streams join `set`.
fn bind(item: &LoopItem, source: FileStream, set: &StreamSet) -> Arc<LoopItem> {
    Arc::new(LoopItem {
        stream: Some(Arc::new(SetStream {
            source,
            set: set.clone(),
        })),
        ..item.clone()
    })
}

fn note_name(n: &NoteFile) -> String {
    match &n.note {
        super::manifest::Note::Name(s) => s.clone(),
        super::manifest::Note::Midi(m) => format!("MIDI {m}"),
    }
}

/// The pitch a sample was recorded at, measured near its nominal note.
fn recorded_pitch(channels: &[Vec<f32>], rate: u32, nominal: f32) -> Option<f32> {
    let a = (PITCH_WINDOW_S.0 * rate as f64) as usize;
    let b = ((PITCH_WINDOW_S.1 * rate as f64) as usize).min(channels[0].len());
    if b <= a {
        return None;
    }
    let mono: Vec<f32> = (a..b).map(|i| channels[0][i] + channels[1][i]).collect();
    measure_pitch(&mono, rate, nominal, PITCH_SEARCH_CENTS)
}

/// A raised-cosine fade over the last [`CUT_FADE_S`] of a sample cut at `length_s`.
fn fade_tail(channels: &mut [Vec<f32>], rate: u32, length_s: f64) {
    let len = channels.first().map_or(0, Vec::len);
    if (len as f64) < length_s * rate as f64 * 0.999 {
        return; // it ended on its own
    }
    let fade = ((CUT_FADE_S * rate as f64) as usize).min(len);
    for c in channels.iter_mut() {
        for (k, s) in c[len - fade..].iter_mut().enumerate() {
            let t = k as f32 / fade as f32;
            *s *= 0.5 + 0.5 * (core::f32::consts::PI * t).cos();
        }
    }
}

fn interleave(channels: &[Vec<f32>], gain: f32) -> Audio {
    let (l, r) = (&channels[0], &channels[1]);
    let mut v = Vec::with_capacity(2 * l.len());
    for (a, b) in l.iter().zip(r) {
        v.push(a * gain);
        v.push(b * gain);
    }
    Audio::from_interleaved(v)
}
