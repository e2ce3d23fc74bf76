//! Streaming WAV output that is always left valid, split into parts before the 4 GiB limit.

use crate::output::{self, Target};
use isochord_dsp::rng::Rng;
use std::fs::File;
use std::io::{BufWriter, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::str::FromStr;

/// Sample format of a WAV file.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum SampleFormat {
    /// 32-bit IEEE float (lossless for the engine's output).
    #[default]
    F32,
    /// 24-bit integer, rounded.
    S24,
    /// 16-bit integer with TPDF dither.
    S16,
}

impl SampleFormat {
    /// Bytes per sample.
    pub fn bytes(self) -> u64 {
        match self {
            SampleFormat::F32 => 4,
            SampleFormat::S24 => 3,
            SampleFormat::S16 => 2,
        }
    }

    /// The name used on the command line.
    pub fn name(self) -> &'static str {
        match self {
            SampleFormat::F32 => "f32",
            SampleFormat::S24 => "s24",
            SampleFormat::S16 => "s16",
        }
    }
}

impl FromStr for SampleFormat {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "f32" => Ok(SampleFormat::F32),
            "s24" => Ok(SampleFormat::S24),
            "s16" => Ok(SampleFormat::S16),
            _ => Err(format!("`{s}` is not a sample format (f32, s24 or s16)")),
        }
    }
}

/// Data bytes per WAV part: a margin under the format's 4 GiB (u32) size fields.
pub const MAX_PART_BYTES: u64 = 4_000_000_000;

/// Writes interleaved stereo to a WAV file as it comes, keeping memory flat. Data goes to
/// hidden `.partial` files that are finalised and renamed into place by
/// [`WavSink::finish`], so the destination never holds a half-written file; a session
/// longer than one file can hold is split into `NAME-part01.wav`, `NAME-part02.wav`, …
/// Standard output (`-`), a character device or a FIFO is written straight into as one
/// streaming WAV (sizes marked unknown, patched at the end when the output can seek);
/// a symbolic link is followed; anything else is refused (see [`crate::output`]).
/// Runs on a non-real-time thread.
pub struct WavSink {
    dest: PathBuf,
    spec: hound::WavSpec,
    format: SampleFormat,
    frames_per_part: u64,
    writer: Option<hound::WavWriter<BufWriter<File>>>,
    stream: Option<BufWriter<File>>,
    part_frames: u64,
    partials: Vec<PathBuf>,
    dither: Rng,
    frames: u64,
}

/// Why writing a WAV failed.
#[derive(Debug, thiserror::Error)]
pub enum WavError {
    /// The file could not be created or written.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: hound::Error,
    },
    /// The destination cannot be written (see [`crate::output`]).
    #[error(transparent)]
    Output(#[from] output::OutputError),
}

impl WavSink {
    /// A sink writing `dest` at `sample_rate` in `format`; an existing regular file at
    /// `dest` is replaced when the sink finishes (check with
    /// [`output::check`](crate::output::check()) first to refuse that).
    pub fn create(dest: &Path, sample_rate: u32, format: SampleFormat) -> Result<Self, WavError> {
        Self::with_part_limit(dest, sample_rate, format, MAX_PART_BYTES)
    }

    /// Like [`WavSink::create`] with a smaller part size (for tests of the splitting).
    pub fn with_part_limit(
        dest: &Path,
        sample_rate: u32,
        format: SampleFormat,
        max_part_bytes: u64,
    ) -> Result<Self, WavError> {
        let spec = hound::WavSpec {
            channels: 2,
            sample_rate,
            bits_per_sample: (format.bytes() * 8) as u16,
            sample_format: match format {
                SampleFormat::F32 => hound::SampleFormat::Float,
                _ => hound::SampleFormat::Int,
            },
        };
        let target = output::resolve(dest, output::Existing::Replace)?;
        let mut sink = Self {
            dest: target.path().to_path_buf(),
            spec,
            format,
            frames_per_part: (max_part_bytes / (2 * format.bytes())).max(1),
            writer: None,
            stream: None,
            part_frames: 0,
            partials: Vec::new(),
            dither: Rng::new(0x15_0c_40_2d, 9),
            frames: 0,
        };
        match target {
            Target::File(_) => sink.open_part()?,
            Target::Stream(p) => {
                let mut w = BufWriter::with_capacity(1 << 16, output::open_stream(&p)?);
                w.write_all(&stream_header(&sink.spec, None))
                    .map_err(|e| sink.io_error(e))?;
                sink.stream = Some(w);
                sink.frames_per_part = u64::MAX;
            }
        }
        Ok(sink)
    }

    fn partial_path(&self, part: usize) -> PathBuf {
        output::partial_path(&self.dest, part)
    }

    fn io_error(&self, e: std::io::Error) -> WavError {
        WavError::Io {
            path: self.dest.clone(),
            source: hound::Error::IoError(e),
        }
    }

    fn open_part(&mut self) -> Result<(), WavError> {
        if let Some(w) = self.writer.take() {
            let path = self.partials.last().cloned().unwrap_or_default();
            w.finalize()
                .map_err(|source| WavError::Io { path, source })?;
        }
        let path = self.partial_path(self.partials.len() + 1);
        let w = hound::WavWriter::create(&path, self.spec).map_err(|source| WavError::Io {
            path: path.clone(),
            source,
        })?;
        self.partials.push(path);
        self.writer = Some(w);
        self.part_frames = 0;
        Ok(())
    }

    /// Frames written so far.
    pub fn frames(&self) -> u64 {
        self.frames
    }

    /// Appends interleaved stereo frames.
    pub fn write(&mut self, interleaved: &[f32]) -> Result<(), WavError> {
        if self.stream.is_some() {
            return self.write_stream(interleaved);
        }
        let mut rest = interleaved;
        while !rest.is_empty() {
            if self.part_frames == self.frames_per_part {
                self.open_part()?;
            }
            let room = ((self.frames_per_part - self.part_frames) * 2) as usize;
            let (now, later) = rest.split_at(room.min(rest.len()));
            let path = self.partials.last().cloned().unwrap_or_default();
            let w = self.writer.as_mut().expect("a part is open");
            let io = |source| WavError::Io {
                path: path.clone(),
                source,
            };
            match self.format {
                SampleFormat::F32 => {
                    for &s in now {
                        w.write_sample(s).map_err(io)?;
                    }
                }
                SampleFormat::S24 => {
                    for &s in now {
                        let v = (s.clamp(-1.0, 1.0) * 8_388_607.0).round() as i32;
                        w.write_sample(v).map_err(io)?;
                    }
                }
                SampleFormat::S16 => {
                    for &s in now {
                        // TPDF dither of ±1 LSB
                        let d = self.dither.uniform() - self.dither.uniform();
                        let v = (s.clamp(-1.0, 1.0) * 32_767.0 + d)
                            .round()
                            .clamp(-32_768.0, 32_767.0) as i16;
                        w.write_sample(v).map_err(io)?;
                    }
                }
            }
            let frames = (now.len() / 2) as u64;
            self.part_frames += frames;
            self.frames += frames;
            rest = later;
        }
        Ok(())
    }

    fn write_stream(&mut self, interleaved: &[f32]) -> Result<(), WavError> {
        let Some(w) = self.stream.as_mut() else {
            return Ok(());
        };
        let r = (|| -> std::io::Result<()> {
            match self.format {
                SampleFormat::F32 => {
                    for &s in interleaved {
                        w.write_all(&s.to_le_bytes())?;
                    }
                }
                SampleFormat::S24 => {
                    for &s in interleaved {
                        let v = (s.clamp(-1.0, 1.0) * 8_388_607.0).round() as i32;
                        w.write_all(&v.to_le_bytes()[..3])?;
                    }
                }
                SampleFormat::S16 => {
                    for &s in interleaved {
                        let d = self.dither.uniform() - self.dither.uniform();
                        let v = (s.clamp(-1.0, 1.0) * 32_767.0 + d)
                            .round()
                            .clamp(-32_768.0, 32_767.0) as i16;
                        w.write_all(&v.to_le_bytes())?;
                    }
                }
            }
            Ok(())
        })();
        r.map_err(|e| self.io_error(e))?;
        self.frames += (interleaved.len() / 2) as u64;
        Ok(())
    }

    /// Finalises every part and moves it into place; returns the files written.
    pub fn finish(mut self) -> Result<Vec<PathBuf>, WavError> {
        if let Some(mut w) = self.stream.take() {
            let data = self.frames * 2 * self.format.bytes();
            w.flush().map_err(|e| self.io_error(e))?;
            let mut f = w.into_inner().map_err(|e| self.io_error(e.into_error()))?;
            // a regular file behind standard output can take the real sizes
            let seekable = f.metadata().is_ok_and(|m| m.is_file());
            if seekable {
                let header = stream_header(&self.spec, Some(data));
                let r = f
                    .stream_position()
                    .and_then(|end| {
                        let start = end.saturating_sub(data + header.len() as u64);
                        f.seek(SeekFrom::Start(start))?;
                        f.write_all(&header)?;
                        f.seek(SeekFrom::Start(end)).map(|_| ())
                    })
                    .and_then(|()| f.flush());
                r.map_err(|e| self.io_error(e))?;
            }
            return Ok(vec![self.dest.clone()]);
        }
        if let Some(w) = self.writer.take() {
            let path = self.partials.last().cloned().unwrap_or_default();
            w.finalize()
                .map_err(|source| WavError::Io { path, source })?;
        }
        let finals = self.final_paths();
        for (from, to) in self.partials.iter().zip(&finals) {
            if let Err(e) = output::rename_into_place(from, to) {
                // what was moved stays; what was not is kept for the user (named in the error)
                self.partials.clear();
                return Err(e.into());
            }
        }
        self.partials.clear();
        Ok(finals)
    }

    fn final_paths(&self) -> Vec<PathBuf> {
        if self.partials.len() <= 1 {
            return vec![self.dest.clone()];
        }
        let stem = self
            .dest
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| "out".into());
        let ext = self
            .dest
            .extension()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| "wav".into());
        (1..=self.partials.len())
            .map(|i| self.dest.with_file_name(format!("{stem}-part{i:02}.{ext}")))
            .collect()
    }
}

/// The header of a streaming WAV (PCM or IEEE float, stereo): the RIFF and data sizes
/// are `0xFFFFFFFF` (unknown) unless `data_bytes` is given.
fn stream_header(spec: &hound::WavSpec, data_bytes: Option<u64>) -> Vec<u8> {
    let float = spec.sample_format == hound::SampleFormat::Float;
    let block = spec.channels as u32 * spec.bits_per_sample as u32 / 8;
    let fmt_len: u32 = if float { 18 } else { 16 };
    let fact_len: u32 = if float { 12 } else { 0 };
    let head_rest = 4 + (8 + fmt_len) + fact_len + 8;
    let (riff, data) = match data_bytes {
        Some(d) if d + head_rest as u64 <= u32::MAX as u64 => (head_rest + d as u32, d as u32),
        _ => (u32::MAX, u32::MAX),
    };
    let mut h = Vec::with_capacity(64);
    h.extend_from_slice(b"RIFF");
    h.extend_from_slice(&riff.to_le_bytes());
    h.extend_from_slice(b"WAVEfmt ");
    h.extend_from_slice(&fmt_len.to_le_bytes());
    h.extend_from_slice(&(if float { 3u16 } else { 1u16 }).to_le_bytes());
    h.extend_from_slice(&spec.channels.to_le_bytes());
    h.extend_from_slice(&spec.sample_rate.to_le_bytes());
    h.extend_from_slice(&(spec.sample_rate * block).to_le_bytes());
    h.extend_from_slice(&(block as u16).to_le_bytes());
    h.extend_from_slice(&spec.bits_per_sample.to_le_bytes());
    if float {
        h.extend_from_slice(&0u16.to_le_bytes());
        h.extend_from_slice(b"fact");
        h.extend_from_slice(&4u32.to_le_bytes());
        let frames =
            data_bytes.map_or(u32::MAX, |d| (d / block as u64).min(u32::MAX as u64) as u32);
        h.extend_from_slice(&frames.to_le_bytes());
    }
    h.extend_from_slice(b"data");
    h.extend_from_slice(&data.to_le_bytes());
    h
}

impl Drop for WavSink {
    /// A sink dropped without [`WavSink::finish`] (an error mid-render) removes its
    /// partial files: nothing half-written is left behind.
    fn drop(&mut self) {
        self.writer.take();
        for p in &self.partials {
            let _ = std::fs::remove_file(p);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ramp(frames: usize) -> Vec<f32> {
        (0..frames * 2)
            .map(|i| (i as f32 * 0.001).sin() * 0.5)
            .collect()
    }

    #[test]
    fn writes_every_format_and_reads_back() {
        let dir = tempfile::tempdir().unwrap();
        for format in [SampleFormat::F32, SampleFormat::S24, SampleFormat::S16] {
            let path = dir.path().join(format!("{}.wav", format.name()));
            let mut sink = WavSink::create(&path, 48_000, format).unwrap();
            let data = ramp(1000);
            sink.write(&data).unwrap();
            assert!(!path.exists(), "nothing at the destination until finished");
            let files = sink.finish().unwrap();
            assert_eq!(files, vec![path.clone()]);
            let r = hound::WavReader::open(&path).unwrap();
            assert_eq!(r.spec().channels, 2);
            assert_eq!(r.spec().bits_per_sample as u64, format.bytes() * 8);
            assert_eq!(r.duration(), 1000);
        }
        assert_eq!(
            std::fs::read_dir(dir.path()).unwrap().count(),
            3,
            "no leftovers"
        );
    }

    #[test]
    fn splits_into_numbered_valid_parts() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("long.wav");
        // 1000 frames of f32 stereo per part
        let mut sink = WavSink::with_part_limit(&path, 8000, SampleFormat::F32, 8000).unwrap();
        let data = ramp(2500);
        for chunk in data.chunks(2 * 300) {
            sink.write(chunk).unwrap();
        }
        let files = sink.finish().unwrap();
        let names: Vec<String> = files
            .iter()
            .map(|f| f.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        assert_eq!(
            names,
            ["long-part01.wav", "long-part02.wav", "long-part03.wav"]
        );
        let lens: Vec<u32> = files
            .iter()
            .map(|f| hound::WavReader::open(f).unwrap().duration())
            .collect();
        assert_eq!(lens, [1000, 1000, 500]);
        // the samples are continuous across parts
        let mut all = Vec::new();
        for f in &files {
            let mut r = hound::WavReader::open(f).unwrap();
            all.extend(r.samples::<f32>().map(|s| s.unwrap()));
        }
        assert_eq!(all, data);
    }

    #[test]
    fn dropped_sink_leaves_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.wav");
        let mut sink = WavSink::create(&path, 48_000, SampleFormat::F32).unwrap();
        sink.write(&ramp(100)).unwrap();
        drop(sink);
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }

    fn mkfifo(p: &Path) {
        let ok = std::process::Command::new("mkfifo")
            .arg(p)
            .status()
            .unwrap();
        assert!(ok.success(), "mkfifo {}", p.display());
    }

    /// The data chunk of a WAV file's bytes (from the `data` tag on).
    fn payload(bytes: &[u8]) -> &[u8] {
        let at = bytes.windows(4).position(|w| w == b"data").unwrap();
        &bytes[at + 8..]
    }

    #[cfg(unix)]
    #[test]
    fn a_fifo_is_written_into_as_a_streaming_wav() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("fifo.wav");
        mkfifo(&fifo);
        let reader = {
            let fifo = fifo.clone();
            std::thread::spawn(move || std::fs::read(fifo).unwrap())
        };
        let data = ramp(3000);
        let mut sink = WavSink::create(&fifo, 48_000, SampleFormat::S24).unwrap();
        sink.write(&data).unwrap();
        assert_eq!(sink.finish().unwrap(), vec![fifo.clone()]);
        let piped = reader.join().unwrap();
        use std::os::unix::fs::FileTypeExt;
        assert!(std::fs::symlink_metadata(&fifo)
            .unwrap()
            .file_type()
            .is_fifo());
        // the same samples as a file render, with the sizes marked unknown
        let file = dir.path().join("file.wav");
        let mut sink = WavSink::create(&file, 48_000, SampleFormat::S24).unwrap();
        sink.write(&data).unwrap();
        sink.finish().unwrap();
        let written = std::fs::read(&file).unwrap();
        assert_eq!(payload(&piped), payload(&written));
        assert_eq!(&piped[4..8], &u32::MAX.to_le_bytes());
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 2);
    }

    #[cfg(unix)]
    #[test]
    fn a_character_device_is_written_into_not_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let dev = dir.path().join("fakenull");
        // the null device's numbers, made in a scratch folder (needs root)
        let made = std::process::Command::new("mknod")
            .args([dev.as_os_str(), "c".as_ref(), "1".as_ref(), "3".as_ref()])
            .status()
            .is_ok_and(|s| s.success());
        if !made {
            eprintln!("skipped: mknod needs root");
            return;
        }
        let mut sink = WavSink::create(&dev, 48_000, SampleFormat::F32).unwrap();
        sink.write(&ramp(48_000)).unwrap();
        sink.finish().unwrap();
        use std::os::unix::fs::FileTypeExt;
        let m = std::fs::symlink_metadata(&dev).unwrap();
        assert!(m.file_type().is_char_device(), "still a device");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[cfg(unix)]
    #[test]
    fn a_symlink_is_followed_and_stays_a_link() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("target.wav");
        let link = dir.path().join("link.wav");
        std::fs::write(&target, b"old").unwrap();
        std::os::unix::fs::symlink("target.wav", &link).unwrap();
        let mut sink = WavSink::create(&link, 48_000, SampleFormat::F32).unwrap();
        sink.write(&ramp(100)).unwrap();
        let files = sink.finish().unwrap();
        assert_eq!(files, vec![std::fs::canonicalize(&target).unwrap()]);
        assert!(std::fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink());
        assert_eq!(hound::WavReader::open(&link).unwrap().duration(), 100);
    }

    #[cfg(unix)]
    #[test]
    fn never_renames_over_what_became_a_fifo() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.wav");
        let mut sink = WavSink::create(&path, 48_000, SampleFormat::F32).unwrap();
        sink.write(&ramp(100)).unwrap();
        mkfifo(&path);
        let e = sink.finish().unwrap_err().to_string();
        assert!(e.contains("no longer a regular file"), "{e}");
        use std::os::unix::fs::FileTypeExt;
        assert!(std::fs::symlink_metadata(&path)
            .unwrap()
            .file_type()
            .is_fifo());
    }
}
