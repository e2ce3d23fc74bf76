//! Streaming WAV output that is always left valid, split into parts before the 4 GiB limit.

use isochord_dsp::rng::Rng;
use std::fs::File;
use std::io::BufWriter;
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
/// Runs on a non-real-time thread.
pub struct WavSink {
    dest: PathBuf,
    spec: hound::WavSpec,
    format: SampleFormat,
    frames_per_part: u64,
    writer: Option<hound::WavWriter<BufWriter<File>>>,
    part_frames: u64,
    partials: Vec<PathBuf>,
    dither: Rng,
    frames: u64,
}

/// Why writing a WAV failed.
#[derive(Debug, thiserror::Error)]
pub enum WavError {
    /// The file could not be created or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: hound::Error,
    },
}

impl WavSink {
    /// A sink writing `dest` at `sample_rate` in `format`.
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
        let mut sink = Self {
            dest: dest.to_path_buf(),
            spec,
            format,
            frames_per_part: (max_part_bytes / (2 * format.bytes())).max(1),
            writer: None,
            part_frames: 0,
            partials: Vec::new(),
            dither: Rng::new(0x15_0c_40_2d, 9),
            frames: 0,
        };
        sink.open_part()?;
        Ok(sink)
    }

    fn partial_path(&self, part: usize) -> PathBuf {
        let name = self
            .dest
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "out.wav".into());
        self.dest.with_file_name(format!(".{name}.{part}.partial"))
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

    /// Finalises every part and moves it into place; returns the files written.
    pub fn finish(mut self) -> Result<Vec<PathBuf>, WavError> {
        if let Some(w) = self.writer.take() {
            let path = self.partials.last().cloned().unwrap_or_default();
            w.finalize()
                .map_err(|source| WavError::Io { path, source })?;
        }
        let finals = self.final_paths();
        for (from, to) in self.partials.iter().zip(&finals) {
            std::fs::rename(from, to).map_err(|e| WavError::Io {
                path: to.clone(),
                source: hound::Error::IoError(e),
            })?;
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
}
