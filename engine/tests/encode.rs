//! Compressed output, decoded again: FLAC bit for bit against the WAV path's PCM, Ogg Opus
//! for its exact length, level and spectrum, and both after an interrupted render.

use isochord_engine::encode::{self, AudioSink, Encoding, FlacSink};
use isochord_engine::session::SessionPlan;
use isochord_engine::{Preset, SampleFormat, WavSink};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// Renders `preset` for `seconds` into every sink at once (the same samples); stops
/// (fading out) after `stop_after` frames when given. Returns the frames rendered.
fn render(
    preset: &str,
    seconds: f64,
    rate: u32,
    sinks: &mut [Box<dyn AudioSink>],
    stop_after: Option<u64>,
) -> u64 {
    render_keeping(preset, seconds, rate, sinks, stop_after, &mut Vec::new())
}

/// [`render`], keeping a copy of the samples in `keep`.
fn render_keeping(
    preset: &str,
    seconds: f64,
    rate: u32,
    sinks: &mut [Box<dyn AudioSink>],
    stop_after: Option<u64>,
    keep: &mut Vec<f32>,
) -> u64 {
    let preset = Preset::find(preset).unwrap();
    let plan = SessionPlan::fixed(&preset, Duration::from_secs_f64(seconds), 3);
    let (session, _end) = plan.offline(rate).unwrap();
    let stop = AtomicBool::new(false);
    let mut done = 0u64;
    let outcome = session
        .render(
            |buf| {
                for s in sinks.iter_mut() {
                    s.write(buf)?;
                }
                if keep.capacity() > 0 {
                    keep.extend_from_slice(buf);
                }
                done += (buf.len() / 2) as u64;
                if stop_after.is_some_and(|n| done >= n) {
                    stop.store(true, Ordering::Relaxed);
                }
                Ok::<_, encode::EncodeError>(())
            },
            &stop,
            |_, _| {},
        )
        .unwrap();
    assert_eq!(outcome.interrupted, stop_after.is_some());
    outcome.frames
}

fn finish(sinks: Vec<Box<dyn AudioSink>>) {
    for s in sinks {
        s.finish().unwrap();
    }
}

fn flac_samples(path: &Path) -> (claxon::metadata::StreamInfo, Vec<i32>) {
    let mut r = claxon::FlacReader::open(path).unwrap();
    let info = r.streaminfo();
    let samples = r.samples().map(|s| s.unwrap()).collect();
    (info, samples)
}

fn wav_samples(path: &Path) -> Vec<i32> {
    let mut r = hound::WavReader::open(path).unwrap();
    r.samples::<i32>().map(|s| s.unwrap()).collect()
}

#[test]
fn flac_decodes_bit_for_bit_to_the_wav_pcm() {
    let dir = tempfile::tempdir().unwrap();
    let p = |n: &str| dir.path().join(n);
    let mut sinks: Vec<Box<dyn AudioSink>> = vec![
        Box::new(FlacSink::create(&p("a24.flac"), 44_100, 24).unwrap()),
        Box::new(WavSink::create(&p("a24.wav"), 44_100, SampleFormat::S24).unwrap()),
        Box::new(FlacSink::create(&p("a16.flac"), 44_100, 16).unwrap()),
        Box::new(WavSink::create(&p("a16.wav"), 44_100, SampleFormat::S16).unwrap()),
    ];
    // not a whole number of FLAC blocks, so the last block is a short one
    let frames = render("relax", 7.3, 44_100, &mut sinks, None);
    finish(sinks);
    assert_eq!(frames, (7.3f64 * 44_100.0).round() as u64);
    for bits in [24u32, 16] {
        let (info, flac) = flac_samples(&p(&format!("a{bits}.flac")));
        let wav = wav_samples(&p(&format!("a{bits}.wav")));
        assert_eq!(info.bits_per_sample, bits);
        assert_eq!(info.sample_rate, 44_100);
        assert_eq!(info.channels, 2);
        assert_eq!(info.samples, Some(frames), "length in the header");
        assert!(info.md5sum != [0; 16], "checksum in the header");
        assert_eq!(flac.len(), wav.len());
        assert!(flac == wav, "{bits}-bit FLAC differs from the WAV's PCM");
        let peak = flac.iter().map(|s| s.abs()).max().unwrap();
        assert!(peak > 1 << (bits - 4), "not silent: peak {peak}");
        let ratio = std::fs::metadata(p(&format!("a{bits}.flac")))
            .unwrap()
            .len() as f64
            / std::fs::metadata(p(&format!("a{bits}.wav"))).unwrap().len() as f64;
        assert!(ratio < 0.9, "{bits}-bit FLAC is {ratio:.2} of the WAV");
    }
    let mut names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(
        names,
        ["a16.flac", "a16.wav", "a24.flac", "a24.wav"],
        "no leftovers"
    );
}

#[cfg(unix)]
#[test]
fn flac_streams_into_a_fifo() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("pipe.flac");
    assert!(std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap()
        .success());
    let reader = {
        let fifo = fifo.clone();
        std::thread::spawn(move || std::fs::read(fifo).unwrap())
    };
    let file = dir.path().join("file.flac");
    let mut sinks: Vec<Box<dyn AudioSink>> = vec![
        Box::new(FlacSink::create(&fifo, 48_000, 24).unwrap()),
        Box::new(FlacSink::create(&file, 48_000, 24).unwrap()),
    ];
    render("focus", 3.0, 48_000, &mut sinks, None);
    finish(sinks);
    let piped = reader.join().unwrap();
    let copy = dir.path().join("copy.flac");
    std::fs::write(&copy, &piped).unwrap();
    let (info, streamed) = flac_samples(&copy);
    assert_eq!(info.samples, None, "a stream's length is left unknown");
    assert_eq!(streamed, flac_samples(&file).1);
    use std::os::unix::fs::FileTypeExt;
    assert!(std::fs::symlink_metadata(&fifo)
        .unwrap()
        .file_type()
        .is_fifo());
}

/// Decodes an Ogg Opus file: (pre-skip, input rate in the header, 48 kHz interleaved
/// stereo trimmed to the end the last granule position gives, pre-skip removed).
#[cfg(feature = "opus")]
fn opus_decode(path: &Path) -> (u64, u32, Vec<f32>) {
    let mut r = ogg::PacketReader::new(std::fs::File::open(path).unwrap());
    let head = r.read_packet_expected().unwrap();
    assert_eq!(&head.data[..8], b"OpusHead");
    assert!(head.last_in_page(), "OpusHead alone on its page");
    assert_eq!(head.data[9], 2, "stereo");
    let pre_skip = u16::from_le_bytes([head.data[10], head.data[11]]) as u64;
    let rate = u32::from_le_bytes(head.data[12..16].try_into().unwrap());
    let tags = r.read_packet_expected().unwrap();
    assert_eq!(&tags.data[..8], b"OpusTags");
    let mut dec = opus::Decoder::new(48_000, opus::Channels::Stereo).unwrap();
    let mut pcm = Vec::new();
    let mut buf = vec![0f32; 2 * 5760];
    let mut last_granule = 0;
    let mut ended = false;
    while let Some(p) = r.read_packet().unwrap() {
        assert!(!ended, "nothing after the end of the stream");
        let n = dec.decode_float(&p.data, &mut buf, false).unwrap();
        pcm.extend_from_slice(&buf[..2 * n]);
        if p.last_in_page() {
            let g = p.absgp_page();
            assert!(g >= last_granule, "granule positions never go back");
            assert!(
                g <= pcm.len() as u64 / 2,
                "granule {g} beyond what was decoded"
            );
            last_granule = g;
        }
        ended = p.last_in_stream();
    }
    assert!(ended, "the last page is marked the end of the stream");
    pcm.truncate(2 * last_granule as usize);
    pcm.drain(..2 * pre_skip as usize);
    (pre_skip, rate, pcm)
}

#[cfg(feature = "opus")]
fn rms_db(x: &[f32]) -> f64 {
    let ms = x.iter().map(|&s| (s as f64).powi(2)).sum::<f64>() / x.len() as f64;
    10.0 * ms.log10()
}

/// Energy (dB) of the left+right sum in octave bands centred 63 Hz … 16 kHz, from
/// averaged 4096-point Hann-windowed spectra.
#[cfg(feature = "opus")]
fn octave_bands(x: &[f32], rate: f64) -> Vec<f64> {
    use realfft::RealFftPlanner;
    let n = 4096;
    let fft = RealFftPlanner::<f64>::new().plan_fft_forward(n);
    let mono: Vec<f64> = x.chunks_exact(2).map(|f| (f[0] + f[1]) as f64).collect();
    let mut power = vec![0.0f64; n / 2 + 1];
    let mut input = fft.make_input_vec();
    let mut spec = fft.make_output_vec();
    for block in mono.chunks_exact(n).step_by(1) {
        for (i, (d, s)) in input.iter_mut().zip(block).enumerate() {
            let w = 0.5 - 0.5 * (2.0 * std::f64::consts::PI * i as f64 / n as f64).cos();
            *d = s * w;
        }
        fft.process(&mut input, &mut spec).unwrap();
        for (p, c) in power.iter_mut().zip(&spec) {
            *p += c.norm_sqr();
        }
    }
    let centres = [
        63.0, 125.0, 250.0, 500.0, 1000.0, 2000.0, 4000.0, 8000.0, 16000.0,
    ];
    centres
        .iter()
        .map(|&c: &f64| {
            let (lo, hi) = (c / 2f64.sqrt(), c * 2f64.sqrt());
            let e: f64 = power
                .iter()
                .enumerate()
                .filter(|(k, _)| {
                    let f = *k as f64 * rate / n as f64;
                    f >= lo && f < hi
                })
                .map(|(_, p)| p)
                .sum();
            10.0 * (e + 1e-30).log10()
        })
        .collect()
}

#[cfg(feature = "opus")]
#[test]
fn opus_keeps_length_level_and_spectrum() {
    use isochord_engine::encode::OpusSink;
    let dir = tempfile::tempdir().unwrap();
    let opus_path = dir.path().join("s.opus");
    let wav_path = dir.path().join("s.wav");
    let mut sinks: Vec<Box<dyn AudioSink>> = vec![
        Box::new(OpusSink::create(&opus_path, 48_000, 96_000).unwrap()),
        Box::new(WavSink::create(&wav_path, 48_000, SampleFormat::F32).unwrap()),
    ];
    let frames = render("relax", 12.345, 48_000, &mut sinks, None);
    finish(sinks);
    let (pre_skip, rate, decoded) = opus_decode(&opus_path);
    assert_eq!(rate, 48_000);
    assert!(pre_skip > 0 && pre_skip < 2000, "pre-skip {pre_skip}");
    assert_eq!(
        decoded.len() as u64 / 2,
        frames,
        "exact length after pre-skip"
    );
    let mut r = hound::WavReader::open(&wav_path).unwrap();
    let source: Vec<f32> = r.samples::<f32>().map(|s| s.unwrap()).collect();
    let (a, b) = (rms_db(&source), rms_db(&decoded));
    eprintln!("RMS source {a:.2} dBFS, decoded {b:.2} dBFS");
    assert!(a > -40.0, "not silent: {a:.1} dBFS");
    assert!((a - b).abs() < 0.5, "RMS {a:.2} vs {b:.2} dBFS");
    // aligned in time: the pre-skip was right (a shift of even 1 ms would decorrelate
    // the upper partials)
    let dot: f64 = source
        .iter()
        .zip(&decoded)
        .map(|(x, y)| (x * y) as f64)
        .sum();
    let nx: f64 = source.iter().map(|x| (x * x) as f64).sum();
    let ny: f64 = decoded.iter().map(|y| (y * y) as f64).sum();
    let corr = dot / (nx * ny).sqrt();
    eprintln!("correlation {corr:.4}");
    assert!(
        corr > 0.9,
        "decoded waveform correlates {corr:.3} with the source"
    );
    let (sa, sb) = (
        octave_bands(&source, 48_000.0),
        octave_bands(&decoded, 48_000.0),
    );
    let top = sa.iter().cloned().fold(f64::MIN, f64::max);
    for (i, (x, y)) in sa.iter().zip(&sb).enumerate() {
        eprintln!(
            "band {i}: source {:.1} dB, decoded {:.1} dB",
            x - top,
            y - top
        );
        // bands within 50 dB of the loudest carry what is heard; Opus codes each band's
        // energy explicitly (CELT), so at 96 kbit/s they hold within 1 dB
        if *x > top - 50.0 {
            assert!((x - y).abs() < 1.0, "band {i}: {x:.1} vs {y:.1} dB");
        }
    }
}

#[cfg(feature = "opus")]
#[test]
fn opus_from_44k1_is_resampled_to_the_exact_length() {
    use isochord_engine::encode::OpusSink;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.opus");
    let mut sinks: Vec<Box<dyn AudioSink>> =
        vec![Box::new(OpusSink::create(&path, 44_100, 64_000).unwrap())];
    let mut source = Vec::with_capacity(2 * 5 * 44_100);
    let frames = render_keeping("focus", 5.0, 44_100, &mut sinks, None, &mut source);
    finish(sinks);
    let (_, rate, decoded) = opus_decode(&path);
    assert_eq!(rate, 44_100, "the input rate is in the header");
    assert_eq!(decoded.len() as u64 / 2, frames * 48_000 / 44_100);
    let (a, b) = (rms_db(&source), rms_db(&decoded));
    assert!((a - b).abs() < 0.5, "RMS {a:.2} vs {b:.2} dBFS");
}

#[test]
fn an_interrupted_render_leaves_decodable_files() {
    let dir = tempfile::tempdir().unwrap();
    let flac = dir.path().join("cut.flac");
    let mut sinks: Vec<Box<dyn AudioSink>> =
        vec![encode::create(&flac, 48_000, Encoding::FLAC).unwrap()];
    #[cfg(feature = "opus")]
    let opus_path = dir.path().join("cut.opus");
    #[cfg(feature = "opus")]
    sinks.push(encode::create(&opus_path, 48_000, Encoding::OPUS).unwrap());
    // a 10-minute session stopped after 3 s: it fades out over 2 s and ends
    let frames = render("sleep", 600.0, 48_000, &mut sinks, Some(3 * 48_000));
    finish(sinks);
    assert!(frames < 6 * 48_000, "{frames} frames");
    let (info, samples) = flac_samples(&flac);
    assert_eq!(info.samples, Some(frames));
    let tail = &samples[samples.len() - 960..];
    assert!(tail.iter().all(|s| s.abs() < 1000), "faded out");
    #[cfg(feature = "opus")]
    {
        let (_, _, decoded) = opus_decode(&opus_path);
        assert_eq!(decoded.len() as u64 / 2, frames);
        assert!(rms_db(&decoded) > -60.0);
    }
}
