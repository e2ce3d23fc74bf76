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
    let mut reader = PacketReader::open(source, extension)?;
    let rate = reader.rate();
    let limit = max_seconds.map(|s| (s * rate as f64).ceil() as usize);
    let mut channels: Vec<Vec<f32>> = Vec::new();
    while let Some(chunk) = reader.next_chunk()? {
        if channels.is_empty() {
            channels = vec![Vec::new(); chunk.len()];
        }
        for (c, s) in channels.iter_mut().zip(chunk) {
            c.extend(s);
        }
        if limit.is_some_and(|l| channels[0].len() >= l) {
            break;
        }
    }
    reader.check_damage()?;
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

/// A file decoded a packet at a time (for streaming long recordings). Control thread.
pub struct PacketReader {
    format: Box<dyn symphonia::core::formats::FormatReader>,
    decoder: Box<dyn symphonia::core::codecs::Decoder>,
    track_id: u32,
    rate: u32,
    buf: Option<SampleBuffer<f32>>,
    packets: usize,
    damaged: usize,
}

impl std::fmt::Debug for PacketReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PacketReader")
            .field("rate", &self.rate)
            .finish()
    }
}

impl PacketReader {
    /// Opens a file for reading.
    pub fn open_file(path: &Path) -> Result<Self, DecodeError> {
        let file = std::fs::File::open(path).map_err(|e| DecodeError::Unreadable(e.to_string()))?;
        let ext = path.extension().and_then(|e| e.to_str()).map(str::to_owned);
        Self::open(Box::new(file), ext.as_deref())
    }

    fn open(source: Box<dyn MediaSource>, extension: Option<&str>) -> Result<Self, DecodeError> {
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
                // the file opened but its data stops short inside what the reader needs
                SymphoniaError::IoError(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
                    DecodeError::Corrupt(e.to_string())
                }
                SymphoniaError::IoError(e) => DecodeError::Unreadable(e.to_string()),
                e => DecodeError::Unsupported(e.to_string()),
            })?;
        let format = probed.format;
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
        let decoder = symphonia::default::get_codecs()
            .make(&track.codec_params, &DecoderOptions::default())
            .map_err(|e| DecodeError::Unsupported(e.to_string()))?;
        Ok(Self {
            format,
            decoder,
            track_id,
            rate,
            buf: None,
            packets: 0,
            damaged: 0,
        })
    }

    /// Sample rate, Hz.
    pub fn rate(&self) -> u32 {
        self.rate
    }

    /// The frames of the file, if it says (without decoding).
    pub fn frames(&self) -> Option<u64> {
        self.format
            .tracks()
            .iter()
            .find(|t| t.id == self.track_id)
            .and_then(|t| t.codec_params.n_frames)
    }

    /// The next packet's samples by channel; `None` at the end of the file. A packet
    /// that cannot be decoded is skipped (as players do) and counted.
    pub fn next_chunk(&mut self) -> Result<Option<Vec<Vec<f32>>>, DecodeError> {
        loop {
            let packet = match self.format.next_packet() {
                Ok(p) => p,
                Err(SymphoniaError::IoError(e))
                    if e.kind() == std::io::ErrorKind::UnexpectedEof =>
                {
                    return Ok(None)
                }
                Err(SymphoniaError::ResetRequired) => return Ok(None),
                Err(e) => return Err(DecodeError::Corrupt(e.to_string())),
            };
            if packet.track_id() != self.track_id {
                continue;
            }
            self.packets += 1;
            let decoded = match self.decoder.decode(&packet) {
                Ok(d) => d,
                Err(SymphoniaError::DecodeError(_)) => {
                    self.damaged += 1;
                    continue;
                }
                Err(SymphoniaError::IoError(e))
                    if e.kind() == std::io::ErrorKind::UnexpectedEof =>
                {
                    return Ok(None)
                }
                Err(e) => return Err(DecodeError::Corrupt(e.to_string())),
            };
            let spec = *decoded.spec();
            let n = spec.channels.count();
            if n == 0 {
                return Err(DecodeError::Corrupt("no channels".into()));
            }
            let sb = match self.buf.as_mut() {
                Some(b) if b.capacity() >= decoded.capacity() * n => b,
                _ => self
                    .buf
                    .insert(SampleBuffer::new(decoded.capacity() as u64, spec)),
            };
            sb.copy_interleaved_ref(decoded);
            let mut chunk = vec![Vec::with_capacity(sb.samples().len() / n); n];
            for frame in sb.samples().chunks_exact(n) {
                for (c, s) in chunk.iter_mut().zip(frame) {
                    c.push(if s.is_finite() { *s } else { 0.0 });
                }
            }
            return Ok(Some(chunk));
        }
    }

    /// An error if more than one packet in ten could not be decoded.
    pub fn check_damage(&self) -> Result<(), DecodeError> {
        if self.damaged > 0 && self.damaged * 10 > self.packets {
            return Err(DecodeError::Corrupt(format!(
                "{} of {} packets could not be decoded",
                self.damaged, self.packets
            )));
        }
        Ok(())
    }
}
