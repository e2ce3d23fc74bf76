//! Decoding audio files (WAV, FLAC, OGG Vorbis, MP3) with symphonia.

use std::io::Cursor;
use std::path::Path;
use symphonia::core::audio::SampleBuffer;
use symphonia::core::codecs::{DecoderOptions, CODEC_TYPE_NULL};
use symphonia::core::errors::Error as SymphoniaError;
use symphonia::core::formats::FormatOptions;
use symphonia::core::io::{MediaSource, MediaSourceStream};
use symphonia::core::meta::MetadataOptions;
use symphonia::core::probe::Hint;

/// Decoded audio: one `Vec` per channel, at `rate`.
#[derive(Clone, Debug, PartialEq)]
pub struct Decoded {
    /// Samples by channel.
    pub channels: Vec<Vec<f32>>,
    /// Sample rate, Hz.
    pub rate: u32,
}

impl Decoded {
    /// Length in frames.
    pub fn frames(&self) -> usize {
        self.channels.first().map_or(0, Vec::len)
    }

    /// Length in seconds.
    pub fn seconds(&self) -> f64 {
        self.frames() as f64 / self.rate.max(1) as f64
    }

    /// Exactly two channels: mono is doubled, more than two keep the first two.
    pub fn into_stereo(mut self) -> Self {
        match self.channels.len() {
            0 => self.channels = vec![Vec::new(), Vec::new()],
            1 => {
                let c = self.channels[0].clone();
                self.channels.push(c);
            }
            _ => self.channels.truncate(2),
        }
        self
    }
}

/// Why a file could not be decoded.
#[derive(Clone, Debug, PartialEq)]
pub enum DecodeError {
    /// It could not be opened or read.
    Unreadable(String),
    /// It is not in a format the engine decodes.
    Unsupported(String),
    /// It looks like a supported format but its data is damaged.
    Corrupt(String),
}

impl std::fmt::Display for DecodeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DecodeError::Unreadable(m) => write!(f, "cannot read: {m}"),
            DecodeError::Unsupported(m) => write!(
                f,
                "not a supported audio format (WAV, FLAC, OGG Vorbis or MP3): {m}"
            ),
            DecodeError::Corrupt(m) => write!(f, "damaged audio data: {m}"),
        }
    }
}

/// Decodes a file, at most `max_seconds` of it. Control thread.
pub fn decode_file(path: &Path, max_seconds: Option<f64>) -> Result<Decoded, DecodeError> {
    let file = std::fs::File::open(path).map_err(|e| DecodeError::Unreadable(e.to_string()))?;
    let ext = path.extension().and_then(|e| e.to_str()).map(str::to_owned);
    decode(Box::new(file), ext.as_deref(), max_seconds)
}

/// Decodes bytes held in memory; `extension` is a hint (`ogg`). Control thread.
pub fn decode_bytes(
    bytes: &'static [u8],
    extension: Option<&str>,
    max_seconds: Option<f64>,
) -> Result<Decoded, DecodeError> {
    decode(Box::new(Cursor::new(bytes)), extension, max_seconds)
}

fn decode(
    source: Box<dyn MediaSource>,
    extension: Option<&str>,
    max_seconds: Option<f64>,
) -> Result<Decoded, DecodeError> {
    let stream = MediaSourceStream::new(source, Default::default());
    let mut hint = Hint::new();
    if let Some(ext) = extension {
        hint.with_extension(ext);
    }
    let probed = symphonia::default::get_probe()
        .format(
            &hint,
            stream,
            &FormatOptions {
                enable_gapless: true,
                ..Default::default()
            },
            &MetadataOptions::default(),
        )
        .map_err(|e| match e {
            SymphoniaError::IoError(e) => DecodeError::Unreadable(e.to_string()),
            e => DecodeError::Unsupported(e.to_string()),
        })?;
    let mut format = probed.format;
    let track = format
        .tracks()
        .iter()
        .find(|t| t.codec_params.codec != CODEC_TYPE_NULL)
        .ok_or_else(|| DecodeError::Unsupported("no audio track".into()))?;
    let track_id = track.id;
    let rate = track
        .codec_params
        .sample_rate
        .ok_or_else(|| DecodeError::Corrupt("no sample rate".into()))?;
    if !(1_000..=768_000).contains(&rate) {
        return Err(DecodeError::Corrupt(format!("sample rate {rate} Hz")));
    }
    let mut decoder = symphonia::default::get_codecs()
        .make(&track.codec_params, &DecoderOptions::default())
        .map_err(|e| DecodeError::Unsupported(e.to_string()))?;
    let limit = max_seconds.map(|s| (s * rate as f64).ceil() as usize);
    let mut channels: Vec<Vec<f32>> = Vec::new();
    let mut buf: Option<SampleBuffer<f32>> = None;
    let mut packets = 0usize;
    let mut damaged = 0usize;
    loop {
        if limit.is_some_and(|l| channels.first().is_some_and(|c| c.len() >= l)) {
            break;
        }
        let packet = match format.next_packet() {
            Ok(p) => p,
            Err(SymphoniaError::IoError(e)) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
                break
            }
            Err(SymphoniaError::ResetRequired) => break,
            Err(e) => return Err(DecodeError::Corrupt(e.to_string())),
        };
        if packet.track_id() != track_id {
            continue;
        }
        packets += 1;
        let decoded = match decoder.decode(&packet) {
            Ok(d) => d,
            Err(SymphoniaError::DecodeError(_)) => {
                // one bad packet is skipped, as players do; many mean a damaged file
                damaged += 1;
                continue;
            }
            Err(SymphoniaError::IoError(e)) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
                break
            }
            Err(e) => return Err(DecodeError::Corrupt(e.to_string())),
        };
        let spec = *decoded.spec();
        let n = spec.channels.count();
        if n == 0 {
            return Err(DecodeError::Corrupt("no channels".into()));
        }
        if channels.is_empty() {
            channels = vec![Vec::new(); n];
        }
        let sb = match buf.as_mut() {
            Some(b) if b.capacity() >= decoded.capacity() * n => b,
            _ => buf.insert(SampleBuffer::new(decoded.capacity() as u64, spec)),
        };
        sb.copy_interleaved_ref(decoded);
        for frame in sb.samples().chunks_exact(n) {
            for (c, s) in channels.iter_mut().zip(frame) {
                c.push(if s.is_finite() { *s } else { 0.0 });
            }
        }
    }
    if damaged > 0 && damaged * 10 > packets {
        return Err(DecodeError::Corrupt(format!(
            "{damaged} of {packets} packets could not be decoded"
        )));
    }
    if channels.first().is_none_or(|c| c.is_empty()) {
        return Err(DecodeError::Corrupt("no audio in the file".into()));
    }
    if let Some(l) = limit {
        for c in channels.iter_mut() {
            c.truncate(l);
        }
    }
    Ok(Decoded { channels, rate })
}
