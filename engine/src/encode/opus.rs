//! Streaming Ogg Opus (libopus through the `opus` crate, pages by the `ogg` crate):
//! stereo, 20 ms packets at 48 kHz, one Ogg page a second.
//!
//! Opus runs at 48 kHz: other rates are resampled first (rubato's FFT resampler, its
//! delay removed, so nothing is shifted or lost). The header carries the encoder's
//! look-ahead as pre-skip, every page its granule position, and the last page the exact
//! end, so a decoder plays back exactly the frames that were written (at 48 kHz).

use super::{AudioSink, Destination, EncodeError};
use audioadapter_buffers::direct::SequentialSliceOfVecs;
use ogg::writing::{PacketWriteEndInfo, PacketWriter};
use rubato::{Fft, FixedSync, Resampler};
use std::path::{Path, PathBuf};

/// Opus's own rate, Hz.
pub const OPUS_RATE: u32 = 48_000;
/// Frames per Opus packet (20 ms at 48 kHz).
pub const PACKET_FRAMES: usize = 960;
/// Packets per Ogg page (one second).
const PACKETS_PER_PAGE: u64 = 50;
/// The Ogg stream's serial number (fixed: the same render makes the same file).
const SERIAL: u32 = 0x6973_6f63;
/// Input frames per resampling chunk.
const RESAMPLE_CHUNK: usize = 1024;

/// Writes interleaved stereo to an Ogg Opus file as it comes, keeping memory flat.
/// See [the module](self) and [`super`] for the file rules. Control or writer thread.
pub struct OpusSink {
    out: Destination,
    encoder: opus::Encoder,
    pages: PacketWriter<'static, Vec<u8>>,
    input_rate: u32,
    pre_skip: u64,
    resampler: Option<Resample>,
    /// Interleaved 48 kHz samples waiting for a full packet.
    pcm: Vec<f32>,
    packet: Vec<u8>,
    /// Frames given, at the input rate.
    frames: u64,
    /// Frames at 48 kHz that go into the encoder (the input's length at 48 kHz).
    frames48: u64,
    /// Packets written.
    packets: u64,
}

struct Resample {
    fft: Fft<f32>,
    input: [Vec<f32>; 2],
    output: Vec<Vec<f32>>,
    /// Output frames still to drop (the resampler's delay).
    skip: usize,
}

impl OpusSink {
    /// A sink writing `dest` from `sample_rate` Hz input at `bitrate` bits per second.
    /// Control thread.
    pub fn create(dest: &Path, sample_rate: u32, bitrate: u32) -> Result<Self, EncodeError> {
        let bad = |m: String| EncodeError::Codec {
            path: dest.to_path_buf(),
            message: m,
        };
        let mut encoder =
            opus::Encoder::new(OPUS_RATE, opus::Channels::Stereo, opus::Application::Audio)
                .map_err(|e| bad(e.to_string()))?;
        encoder
            .set_bitrate(opus::Bitrate::Bits(bitrate as i32))
            .map_err(|e| bad(format!("bit rate {bitrate}: {e}")))?;
        let pre_skip = encoder.get_lookahead().map_err(|e| bad(e.to_string()))? as u64;
        let resampler = if sample_rate == OPUS_RATE {
            None
        } else {
            let fft = Fft::<f32>::new(
                sample_rate as usize,
                OPUS_RATE as usize,
                RESAMPLE_CHUNK,
                2,
                FixedSync::Input,
            )
            .map_err(|e| bad(format!("resampling {sample_rate} Hz to 48 kHz: {e}")))?;
            let max = fft.output_frames_max();
            Some(Resample {
                skip: fft.output_delay(),
                fft,
                input: [
                    Vec::with_capacity(RESAMPLE_CHUNK),
                    Vec::with_capacity(RESAMPLE_CHUNK),
                ],
                output: vec![vec![0.0; max]; 2],
            })
        };
        let mut sink = Self {
            out: Destination::open(dest)?,
            encoder,
            pages: PacketWriter::new(Vec::with_capacity(1 << 14)),
            input_rate: sample_rate,
            pre_skip,
            resampler,
            pcm: Vec::with_capacity(4 * PACKET_FRAMES),
            packet: vec![0; 4000],
            frames: 0,
            frames48: 0,
            packets: 0,
        };
        sink.write_headers()?;
        Ok(sink)
    }

    /// The encoder's look-ahead, in 48 kHz frames: what a decoder drops at the start.
    pub fn pre_skip(&self) -> u64 {
        self.pre_skip
    }

    fn write_headers(&mut self) -> Result<(), EncodeError> {
        let mut head = Vec::with_capacity(19);
        head.extend_from_slice(b"OpusHead");
        head.push(1); // version
        head.push(2); // channels
        head.extend_from_slice(&(self.pre_skip as u16).to_le_bytes());
        head.extend_from_slice(&self.input_rate.to_le_bytes());
        head.extend_from_slice(&0i16.to_le_bytes()); // output gain
        head.push(0); // channel mapping family: mono or stereo
        let vendor = format!("isochord {}", env!("CARGO_PKG_VERSION"));
        let mut tags = Vec::new();
        tags.extend_from_slice(b"OpusTags");
        tags.extend_from_slice(&(vendor.len() as u32).to_le_bytes());
        tags.extend_from_slice(vendor.as_bytes());
        tags.extend_from_slice(&0u32.to_le_bytes()); // no comments
        self.page_packet(head, PacketWriteEndInfo::EndPage, 0)?;
        self.page_packet(tags, PacketWriteEndInfo::EndPage, 0)
    }

    fn page_packet(
        &mut self,
        data: Vec<u8>,
        end: PacketWriteEndInfo,
        granule: u64,
    ) -> Result<(), EncodeError> {
        let r = self.pages.write_packet(data, SERIAL, end, granule);
        r.map_err(|e| self.out.io(e))?;
        let bytes = std::mem::take(self.pages.inner_mut());
        self.out.write_all(&bytes)?;
        let mut bytes = bytes;
        bytes.clear();
        *self.pages.inner_mut() = bytes;
        Ok(())
    }

    /// Encodes whole packets from `pcm`; the very last packet (at `finish`) is marked the
    /// end of the stream with the exact end as its granule position.
    fn encode_packets(&mut self, last: bool) -> Result<(), EncodeError> {
        let whole = self.pcm.len() / (2 * PACKET_FRAMES);
        for i in 0..whole {
            let from = i * 2 * PACKET_FRAMES;
            let n = self
                .encoder
                .encode_float(&self.pcm[from..from + 2 * PACKET_FRAMES], &mut self.packet)
                .map_err(|e| self.out.codec(e.to_string()))?;
            self.packets += 1;
            let is_last = last && i + 1 == whole;
            let (end, granule) = if is_last {
                (PacketWriteEndInfo::EndStream, self.pre_skip + self.frames48)
            } else if self.packets.is_multiple_of(PACKETS_PER_PAGE) {
                (
                    PacketWriteEndInfo::EndPage,
                    self.packets * PACKET_FRAMES as u64,
                )
            } else {
                (
                    PacketWriteEndInfo::NormalPacket,
                    self.packets * PACKET_FRAMES as u64,
                )
            };
            let data = self.packet[..n].to_vec();
            self.page_packet(data, end, granule)?;
        }
        self.pcm.drain(..whole * 2 * PACKET_FRAMES);
        Ok(())
    }

    /// Resamples the full chunks waiting (or, with `flush`, everything, padded with
    /// silence) into `pcm`.
    fn resample(&mut self, flush: bool) -> Result<(), EncodeError> {
        let Some(r) = self.resampler.as_mut() else {
            return Ok(());
        };
        loop {
            let waiting = r.input[0].len();
            if waiting < RESAMPLE_CHUNK {
                if !flush {
                    return Ok(());
                }
                // enough 48 kHz frames out: the input's length plus the delay dropped
                if self.pcm.len() as u64 / 2 + self.packets * PACKET_FRAMES as u64 >= self.frames48
                    && waiting == 0
                {
                    return Ok(());
                }
                for c in r.input.iter_mut() {
                    c.resize(RESAMPLE_CHUNK, 0.0);
                }
            }
            let block: Vec<Vec<f32>> = r
                .input
                .iter_mut()
                .map(|c| c.drain(..RESAMPLE_CHUNK).collect())
                .collect();
            let input = SequentialSliceOfVecs::new(&block, 2, RESAMPLE_CHUNK).map_err(|e| {
                EncodeError::Codec {
                    path: self.out.path().to_path_buf(),
                    message: e.to_string(),
                }
            })?;
            let n = r.fft.output_frames_next();
            let mut output = SequentialSliceOfVecs::new_mut(&mut r.output, 2, n).map_err(|e| {
                EncodeError::Codec {
                    path: self.out.path().to_path_buf(),
                    message: e.to_string(),
                }
            })?;
            let (_, produced) = r
                .fft
                .process_into_buffer(&input, &mut output, None)
                .map_err(|e| EncodeError::Codec {
                    path: self.out.path().to_path_buf(),
                    message: e.to_string(),
                })?;
            let drop = r.skip.min(produced);
            r.skip -= drop;
            for k in drop..produced {
                self.pcm.push(r.output[0][k]);
                self.pcm.push(r.output[1][k]);
            }
        }
    }
}

impl AudioSink for OpusSink {
    fn write(&mut self, interleaved: &[f32]) -> Result<(), EncodeError> {
        let frames = (interleaved.len() / 2) as u64;
        match self.resampler.as_mut() {
            None => self.pcm.extend_from_slice(interleaved),
            Some(_) => {
                let mut rest = interleaved;
                while rest.len() >= 2 {
                    let r = self.resampler.as_mut().expect("resampling");
                    let take = (RESAMPLE_CHUNK - r.input[0].len()).min(rest.len() / 2);
                    for pair in rest[..2 * take].chunks_exact(2) {
                        r.input[0].push(pair[0]);
                        r.input[1].push(pair[1]);
                    }
                    rest = &rest[2 * take..];
                    self.resample(false)?;
                }
            }
        }
        self.frames += frames;
        self.frames48 = self.frames * OPUS_RATE as u64 / self.input_rate as u64;
        self.encode_packets(false)
    }

    fn frames(&self) -> u64 {
        self.frames
    }

    fn finish(mut self: Box<Self>) -> Result<Vec<PathBuf>, EncodeError> {
        self.resample(true)?;
        // exactly the input's length at 48 kHz, then silence to cover the pre-skip and
        // fill the last packet; the granule position trims it on decoding
        let have = self.packets * PACKET_FRAMES as u64;
        let keep = (self.frames48 - have.min(self.frames48)) as usize;
        self.pcm.truncate(2 * keep);
        self.pcm.resize(2 * keep, 0.0);
        let needed = self.pre_skip + self.frames48 - have.min(self.frames48 + self.pre_skip);
        let packets = needed.div_ceil(PACKET_FRAMES as u64).max(1) as usize;
        self.pcm.resize(2 * packets * PACKET_FRAMES, 0.0);
        self.encode_packets(true)?;
        let OpusSink { out, .. } = *self;
        Ok(vec![out.finish()?])
    }
}
