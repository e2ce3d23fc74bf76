//! Streaming FLAC (pure Rust, `flacenc`): 16- or 24-bit stereo in fixed blocks of 4096
//! frames, each block encoded and written as soon as it is full.
//!
//! The STREAMINFO header goes out first with the length and MD5 marked unknown (as a
//! FLAC stream may), and is rewritten with the real ones at the end when the output is a
//! regular file; a stream (standard output, a FIFO) keeps the first header, which every
//! decoder accepts.

use super::{AudioSink, Destination, EncodeError, Quantizer};
use flacenc::bitsink::ByteSink;
use flacenc::component::{BitRepr, Stream, StreamInfo};
use flacenc::error::{Verified, Verify};
use flacenc::source::{Context, Fill, FrameBuf};
use std::path::{Path, PathBuf};

/// Frames per FLAC block (the reference encoder's default).
pub const BLOCK_FRAMES: usize = 4096;

/// Writes interleaved stereo to a FLAC file as it comes, keeping memory flat (one block).
/// See [the module](self) and [`super`] for the file rules. Control or writer thread.
pub struct FlacSink {
    out: Destination,
    bits: u8,
    config: Verified<flacenc::config::Encoder>,
    info: StreamInfo,
    quant: Quantizer,
    pending: Vec<i32>,
    framebuf: FrameBuf,
    context: Context,
    bytes: ByteSink,
    frames: u64,
    frame_number: usize,
}

impl FlacSink {
    /// A sink writing `dest` at `sample_rate` Hz and `bits` (16 or 24) per sample.
    /// Control thread.
    pub fn create(dest: &Path, sample_rate: u32, bits: u8) -> Result<Self, EncodeError> {
        let bad = |m: String| EncodeError::Codec {
            path: dest.to_path_buf(),
            message: m,
        };
        if bits != 16 && bits != 24 {
            return Err(bad(format!("FLAC is written at 16 or 24 bits, not {bits}")));
        }
        let mut info = StreamInfo::new(sample_rate as usize, 2, bits as usize)
            .map_err(|e| bad(format!("sample rate {sample_rate} Hz: {e}")))?;
        info.set_block_sizes(BLOCK_FRAMES, BLOCK_FRAMES)
            .map_err(|e| bad(e.to_string()))?;
        let mut config = flacenc::config::Encoder::default();
        config.block_size = BLOCK_FRAMES;
        let config = config
            .into_verified()
            .map_err(|(_, e)| bad(e.to_string()))?;
        let framebuf = FrameBuf::with_size(2, BLOCK_FRAMES).map_err(|e| bad(e.to_string()))?;
        let mut sink = Self {
            out: Destination::open(dest)?,
            bits,
            config,
            info,
            quant: Quantizer::new(bits),
            pending: Vec::with_capacity(2 * BLOCK_FRAMES),
            framebuf,
            context: Context::new(bits as usize, 2),
            bytes: ByteSink::new(),
            frames: 0,
            frame_number: 0,
        };
        let header = sink.header()?;
        sink.out.write_all(&header)?;
        Ok(sink)
    }

    /// Bits per sample.
    pub fn bits(&self) -> u8 {
        self.bits
    }

    /// `fLaC` and the STREAMINFO block as it stands.
    fn header(&mut self) -> Result<Vec<u8>, EncodeError> {
        let stream = Stream::with_stream_info(self.info.clone());
        self.bytes.clear();
        stream
            .write(&mut self.bytes)
            .map_err(|e| self.out.codec(format!("{e:?}")))?;
        Ok(self.bytes.as_slice().to_vec())
    }

    fn encode_pending(&mut self) -> Result<(), EncodeError> {
        if self.pending.is_empty() {
            return Ok(());
        }
        self.framebuf
            .fill_interleaved(&self.pending)
            .map_err(|e| self.out.codec(e.to_string()))?;
        self.context
            .fill_interleaved(&self.pending)
            .map_err(|e| self.out.codec(e.to_string()))?;
        let frame = flacenc::encode_fixed_size_frame(
            &self.config,
            &self.framebuf,
            self.frame_number,
            &self.info,
        )
        .map_err(|e| self.out.codec(format!("frame {}: {e}", self.frame_number)))?;
        self.frame_number += 1;
        self.info.update_frame_info(&frame);
        self.bytes.clear();
        frame
            .write(&mut self.bytes)
            .map_err(|e| self.out.codec(format!("{e:?}")))?;
        let r = std::io::Write::write_all(self.out.writer(), self.bytes.as_slice());
        r.map_err(|e| self.out.io(e))?;
        self.pending.clear();
        Ok(())
    }
}

impl AudioSink for FlacSink {
    fn write(&mut self, interleaved: &[f32]) -> Result<(), EncodeError> {
        for pair in interleaved.chunks_exact(2) {
            self.pending.push(self.quant.sample(pair[0]));
            self.pending.push(self.quant.sample(pair[1]));
            if self.pending.len() == 2 * BLOCK_FRAMES {
                self.encode_pending()?;
            }
        }
        self.frames += (interleaved.len() / 2) as u64;
        Ok(())
    }

    fn frames(&self) -> u64 {
        self.frames
    }

    fn finish(mut self: Box<Self>) -> Result<Vec<PathBuf>, EncodeError> {
        self.encode_pending()?;
        // the real length, checksum and sizes, where the output can take them
        self.info.set_md5_digest(&self.context.md5_digest());
        self.info.set_total_samples(self.frames as usize);
        // one short block: its own length (at least the format's minimum of 16)
        let block = BLOCK_FRAMES.min(self.frames as usize).max(16);
        self.info
            .set_block_sizes(block, block)
            .map_err(|e| self.out.codec(format!("block sizes {block}: {e}")))?;
        let header = self.header()?;
        self.out.patch(0, &header)?;
        let FlacSink { out, .. } = *self;
        Ok(vec![out.finish()?])
    }
}
