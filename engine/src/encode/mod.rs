//! Encoded output: the engine's interleaved stereo written to WAV, FLAC or Ogg Opus as it
//! comes, behind one [`AudioSink`] trait, so memory stays flat over any length.
//!
//! Every sink follows the rules of [`crate::output`] and [`WavSink`]: a regular file is
//! written to a hidden `.NAME.PID.N.partial` file beside the destination and renamed into
//! place by [`AudioSink::finish`] (never over anything but a regular file); standard
//! output (`-`), a character device or a FIFO is written straight into as one stream; a
//! sink dropped without finishing removes its partial file. The samples a sink is given
//! are the same whatever the format, so a FLAC decodes bit for bit to the WAV of the same
//! bit depth ([`Quantizer`]).
//!
//! Everything here runs on a non-real-time (control or writer) thread: it allocates and
//! does I/O.

pub mod flac;
#[cfg(feature = "opus")]
pub mod opus;

use crate::output::{self, Target};
use crate::wav::{SampleFormat, WavError, WavSink};
use isochord_dsp::rng::Rng;
use std::fs::File;
use std::io::{BufWriter, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::str::FromStr;

pub use flac::FlacSink;
#[cfg(feature = "opus")]
pub use opus::OpusSink;

/// How a render is written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Encoding {
    /// An uncompressed WAV file in this sample format (split into parts past 4 GB).
    Wav(SampleFormat),
    /// Lossless FLAC at this bit depth (16, with the WAV path's TPDF dither, or 24).
    Flac {
        /// Bits per sample: 16 or 24.
        bits: u8,
    },
    /// Ogg Opus at this bit rate (stereo, 48 kHz inside; other rates are resampled).
    Opus {
        /// Bits per second, 6 000 ..= 510 000.
        bitrate: u32,
    },
}

/// The container a file name's extension asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Container {
    /// `.wav`
    Wav,
    /// `.flac`
    Flac,
    /// `.opus` or `.ogg`
    Opus,
}

impl Container {
    /// The container the extension of `path` names (`.wav`, `.flac`, `.opus`, `.ogg`, in
    /// any case), or `None` for any other extension or none. Any thread.
    pub fn from_path(path: &Path) -> Option<Self> {
        let ext = path.extension()?.to_string_lossy().to_ascii_lowercase();
        match ext.as_str() {
            "wav" | "wave" => Some(Container::Wav),
            "flac" => Some(Container::Flac),
            "opus" | "ogg" | "oga" => Some(Container::Opus),
            _ => None,
        }
    }

    /// Its name, as `--format` spells it (`wav` for any WAV sample format). Any thread.
    pub fn name(self) -> &'static str {
        match self {
            Container::Wav => "wav",
            Container::Flac => "flac",
            Container::Opus => "opus",
        }
    }
}

impl Encoding {
    /// Default Opus bit rate: 96 kbit/s stereo, transparent for most listeners.
    pub const DEFAULT_OPUS_BITRATE: u32 = 96_000;

    /// FLAC at 24 bits.
    pub const FLAC: Encoding = Encoding::Flac { bits: 24 };

    /// Ogg Opus at [`Encoding::DEFAULT_OPUS_BITRATE`].
    pub const OPUS: Encoding = Encoding::Opus {
        bitrate: Encoding::DEFAULT_OPUS_BITRATE,
    };

    /// The container it writes. Any thread.
    pub fn container(self) -> Container {
        match self {
            Encoding::Wav(_) => Container::Wav,
            Encoding::Flac { .. } => Container::Flac,
            Encoding::Opus { .. } => Container::Opus,
        }
    }

    /// A short description such as `flac 24-bit` or `opus 96 kbit/s`. Any thread.
    pub fn describe(self) -> String {
        match self {
            Encoding::Wav(f) => f.name().to_string(),
            Encoding::Flac { bits } => format!("flac {bits}-bit"),
            Encoding::Opus { bitrate } => format!("opus {} kbit/s", bitrate / 1000),
        }
    }

    /// Whether this build can write it (Opus needs the `opus` feature). Any thread.
    pub fn available(self) -> bool {
        !matches!(self, Encoding::Opus { .. }) || cfg!(feature = "opus")
    }

    /// The encoding for `out`: `given` (from `--format`) when there is one, which must
    /// agree with the extension of `out` if that names a container; else the one the
    /// extension names (`.flac` → 24-bit FLAC, `.opus`/`.ogg` → Opus at `opus_bitrate`,
    /// or the default); else a 32-bit float WAV. Any thread.
    pub fn for_output(
        given: Option<Encoding>,
        out: &Path,
        opus_bitrate: Option<u32>,
    ) -> Result<Encoding, String> {
        let from_ext = Container::from_path(out);
        let chosen = match (given, from_ext) {
            (Some(e), Some(c)) if e.container() != c => {
                return Err(format!(
                    "{}: the extension says {} but the format asked for is {}; change one of them",
                    out.display(),
                    c.name(),
                    e.container().name()
                ))
            }
            (Some(e), _) => e,
            (None, Some(Container::Flac)) => Encoding::FLAC,
            (None, Some(Container::Opus)) => Encoding::OPUS,
            (None, _) => Encoding::Wav(SampleFormat::F32),
        };
        let chosen = match (chosen, opus_bitrate) {
            (Encoding::Opus { .. }, Some(bitrate)) => Encoding::Opus { bitrate },
            (e, Some(_)) => {
                return Err(format!(
                    "a bit rate applies to Opus output only, not {}",
                    e.describe()
                ))
            }
            (e, None) => e,
        };
        chosen.validate()
    }

    /// Checks the parameters: FLAC at 16 or 24 bits, Opus at 6..=510 kbit/s. Any thread.
    pub fn validate(self) -> Result<Self, String> {
        match self {
            Encoding::Flac { bits } if bits != 16 && bits != 24 => {
                Err(format!("FLAC is written at 16 or 24 bits, not {bits}"))
            }
            Encoding::Opus { bitrate } if !(6_000..=510_000).contains(&bitrate) => Err(format!(
                "an Opus bit rate of {} kbit/s is outside 6..=510",
                bitrate as f64 / 1000.0
            )),
            e if !e.available() => Err(format!(
                "{} output is not built into this program (the `opus` feature)",
                e.container().name()
            )),
            e => Ok(e),
        }
    }
}

impl FromStr for Encoding {
    type Err = String;
    /// `f32`, `s24`, `s16` (WAV), `flac` (24-bit), `flac16`, `flac24`, `opus`. Any thread.
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "flac" | "flac24" => Ok(Encoding::Flac { bits: 24 }),
            "flac16" => Ok(Encoding::Flac { bits: 16 }),
            "opus" | "ogg" => Ok(Encoding::OPUS),
            other => other
                .parse::<SampleFormat>()
                .map(Encoding::Wav)
                .map_err(|_| {
                    format!("`{s}` is not an output format (f32, s24, s16, flac, flac16 or opus)")
                }),
        }
    }
}

/// Why writing encoded audio failed.
#[derive(Debug, thiserror::Error)]
pub enum EncodeError {
    /// Writing the WAV failed.
    #[error(transparent)]
    Wav(#[from] WavError),
    /// The destination cannot be written (see [`crate::output`]).
    #[error(transparent)]
    Output(#[from] output::OutputError),
    /// The file could not be written.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The encoder refused (an invalid setting, or an internal error of the codec).
    #[error("{}: {message}", path.display())]
    Codec {
        /// The file.
        path: PathBuf,
        /// What the codec said.
        message: String,
    },
}

/// Somewhere interleaved stereo `f32` frames are written, encoded, as they come.
/// Control or writer thread (never the audio thread).
pub trait AudioSink: Send {
    /// Appends interleaved stereo frames.
    fn write(&mut self, interleaved: &[f32]) -> Result<(), EncodeError>;
    /// Frames written so far.
    fn frames(&self) -> u64;
    /// Flushes what the encoder holds, completes the file (sizes, checksums, end of
    /// stream) and moves it into place; returns the files written.
    fn finish(self: Box<Self>) -> Result<Vec<PathBuf>, EncodeError>;
}

impl AudioSink for WavSink {
    fn write(&mut self, interleaved: &[f32]) -> Result<(), EncodeError> {
        WavSink::write(self, interleaved).map_err(Into::into)
    }
    fn frames(&self) -> u64 {
        WavSink::frames(self)
    }
    fn finish(self: Box<Self>) -> Result<Vec<PathBuf>, EncodeError> {
        WavSink::finish(*self).map_err(Into::into)
    }
}

/// A sink writing `dest` at `sample_rate` (Hz) in `encoding`; an existing regular file at
/// `dest` is replaced when the sink finishes (check with
/// [`output::check`](crate::output::check()) first to refuse that). Control thread.
pub fn create(
    dest: &Path,
    sample_rate: u32,
    encoding: Encoding,
) -> Result<Box<dyn AudioSink>, EncodeError> {
    let encoding = encoding.validate().map_err(|message| EncodeError::Codec {
        path: dest.to_path_buf(),
        message,
    })?;
    Ok(match encoding {
        Encoding::Wav(format) => Box::new(WavSink::create(dest, sample_rate, format)?),
        Encoding::Flac { bits } => Box::new(FlacSink::create(dest, sample_rate, bits)?),
        #[cfg(feature = "opus")]
        Encoding::Opus { bitrate } => Box::new(OpusSink::create(dest, sample_rate, bitrate)?),
        #[cfg(not(feature = "opus"))]
        Encoding::Opus { .. } => unreachable!("validated above"),
    })
}

/// Turns the engine's `f32` samples into integers exactly as the WAV path does: 24 bits
/// rounded, 16 bits with a ±1 LSB TPDF dither from the same seeded generator. Any thread.
pub struct Quantizer {
    bits: u8,
    dither: Rng,
}

impl Quantizer {
    /// A quantizer to 16 or 24 bits (anything else is treated as 24).
    pub fn new(bits: u8) -> Self {
        Self {
            bits,
            // the same generator, seed and stream as WavSink's
            dither: Rng::new(0x15_0c_40_2d, 9),
        }
    }

    /// One sample, in the order they come (the dither is a sequence).
    #[inline]
    pub fn sample(&mut self, s: f32) -> i32 {
        if self.bits == 16 {
            let d = self.dither.uniform() - self.dither.uniform();
            (s.clamp(-1.0, 1.0) * 32_767.0 + d)
                .round()
                .clamp(-32_768.0, 32_767.0) as i32
        } else {
            (s.clamp(-1.0, 1.0) * 8_388_607.0).round() as i32
        }
    }
}

/// A byte destination with the module's file rules: a hidden partial file renamed into
/// place at the end, or a stream written straight into. Control or writer thread.
pub(crate) struct Destination {
    dest: PathBuf,
    partial: Option<PathBuf>,
    out: Option<BufWriter<File>>,
    /// Where the encoded bytes start when the file can seek (for patching a header).
    start: Option<u64>,
}

impl Destination {
    pub(crate) fn open(dest: &Path) -> Result<Self, EncodeError> {
        let target = output::resolve(dest, output::Existing::Replace)?;
        let (file, partial) = match &target {
            Target::File(p) => {
                let partial = output::partial_path(p, 1);
                let f = std::fs::OpenOptions::new()
                    .write(true)
                    .create_new(true)
                    .open(&partial)
                    .map_err(|source| EncodeError::Io {
                        path: partial.clone(),
                        source,
                    })?;
                (f, Some(partial))
            }
            Target::Stream(p) => (output::open_stream(p)?, None),
        };
        let mut file = file;
        // standard output redirected to a regular file can take a patched header too
        let start = if file.metadata().is_ok_and(|m| m.is_file()) {
            file.stream_position().ok()
        } else {
            None
        };
        Ok(Self {
            dest: target.path().to_path_buf(),
            partial,
            out: Some(BufWriter::with_capacity(1 << 16, file)),
            start,
        })
    }

    /// The destination (for messages).
    pub(crate) fn path(&self) -> &Path {
        &self.dest
    }

    pub(crate) fn io(&self, source: std::io::Error) -> EncodeError {
        EncodeError::Io {
            path: self.partial.clone().unwrap_or_else(|| self.dest.clone()),
            source,
        }
    }

    pub(crate) fn codec(&self, message: impl std::fmt::Display) -> EncodeError {
        EncodeError::Codec {
            path: self.path().to_path_buf(),
            message: message.to_string(),
        }
    }

    pub(crate) fn writer(&mut self) -> &mut BufWriter<File> {
        self.out.as_mut().expect("open until finished")
    }

    pub(crate) fn write_all(&mut self, bytes: &[u8]) -> Result<(), EncodeError> {
        let r = self.writer().write_all(bytes);
        r.map_err(|e| self.io(e))
    }

    /// Overwrites the bytes at `offset` from the start of the encoded data, when the
    /// output can seek (a regular file); returns whether it could.
    pub(crate) fn patch(&mut self, offset: u64, bytes: &[u8]) -> Result<bool, EncodeError> {
        let Some(start) = self.start else {
            return Ok(false);
        };
        let w = self.out.as_mut().expect("open until finished");
        let r = (|| -> std::io::Result<()> {
            w.flush()?;
            let f = w.get_mut();
            let end = f.stream_position()?;
            f.seek(SeekFrom::Start(start + offset))?;
            f.write_all(bytes)?;
            f.seek(SeekFrom::Start(end))?;
            Ok(())
        })();
        r.map_err(|e| self.io(e))?;
        Ok(true)
    }

    /// Flushes, and moves a partial file into place; returns the file written.
    pub(crate) fn finish(mut self) -> Result<PathBuf, EncodeError> {
        let w = self.out.take().expect("open until finished");
        let f = w.into_inner().map_err(|e| self.io(e.into_error()))?;
        drop(f);
        if let Some(partial) = self.partial.take() {
            if let Err(e) = output::rename_into_place(&partial, &self.dest) {
                // kept for the user, named in the error
                return Err(e.into());
            }
        }
        Ok(self.dest.clone())
    }
}

impl Drop for Destination {
    /// Dropped without finishing (an error mid-render): the partial file is removed.
    fn drop(&mut self) {
        self.out.take();
        if let Some(p) = self.partial.take() {
            let _ = std::fs::remove_file(p);
        }
    }
}
