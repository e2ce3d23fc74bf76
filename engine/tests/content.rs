//! The content library measured: every supported format decodes to the right tone,
//! rate conversion is clean to −90 dBFS, items come out at the library's loudness,
//! broken files and manifests are named precisely, and loads are cached.

use isochord_dsp::SoundscapeConfig;
use isochord_engine::content::{
    decode_file, integrated_lufs, resample, resample_loop, ContentLibrary, DecodeError, Manifest,
};
use isochord_engine::Preset;
use realfft::num_complex::Complex;
use realfft::RealFftPlanner;
use std::f64::consts::TAU;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/content")
        .join(name)
}

fn bundled_file(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../assets/content")
        .join(name)
}

fn db(x: f64) -> f64 {
    20.0 * x.max(1e-300).log10()
}

/// The spectrum of `x` times `window` (same length), each bin in dBFS: 0 dB is the bin
/// magnitude a full-scale sine centred on a bin gives through the same window.
fn spectrum_dbfs(x: &[f32], window: &[f64]) -> Vec<f64> {
    assert_eq!(x.len(), window.len());
    let n = x.len();
    let mut buf: Vec<f64> = x.iter().zip(window).map(|(s, w)| *s as f64 * w).collect();
    let fft = RealFftPlanner::<f64>::new().plan_fft_forward(n);
    let mut spec: Vec<Complex<f64>> = fft.make_output_vec();
    fft.process(&mut buf, &mut spec).unwrap();
    let full_scale = window.iter().sum::<f64>() / 2.0;
    spec.iter().map(|c| db(c.norm() / full_scale)).collect()
}

fn rectangular(n: usize) -> Vec<f64> {
    vec![1.0; n]
}

fn hann(n: usize) -> Vec<f64> {
    (0..n)
        .map(|i| 0.5 - 0.5 * (TAU * i as f64 / n as f64).cos())
        .collect()
}

/// The 7-term Blackman-Harris window (sidelobes below −180 dB, main lobe ±7 bins).
fn blackman_harris7(n: usize) -> Vec<f64> {
    const A: [f64; 7] = [
        0.271_051_400_693_42,
        0.433_297_939_234_48,
        0.218_122_999_543_11,
        0.065_925_446_388_03,
        0.010_811_742_098_37,
        0.000_776_584_825_22,
        0.000_013_887_217_35,
    ];
    (0..n)
        .map(|i| {
            let t = TAU * i as f64 / n as f64;
            A.iter()
                .enumerate()
                .map(|(k, a)| if k % 2 == 0 { *a } else { -*a } * (k as f64 * t).cos())
                .sum()
        })
        .collect()
}

/// The frequency of the highest bin of `spec` (dB, `n`-point FFT at `rate`), refined by
/// a parabola through it and its neighbours, and its level.
fn peak(spec: &[f64], n: usize, rate: f64) -> (f64, f64) {
    let k = (1..spec.len() - 1)
        .max_by(|a, b| spec[*a].total_cmp(&spec[*b]))
        .unwrap();
    let (a, b, c) = (spec[k - 1], spec[k], spec[k + 1]);
    let den = a - 2.0 * b + c;
    let d = if den.abs() > 1e-12 {
        0.5 * (a - c) / den
    } else {
        0.0
    };
    ((k as f64 + d) * rate / n as f64, b)
}

/// The highest bin farther than `guard` Hz from `hz`: (frequency, dBFS).
fn worst_spur(spec: &[f64], n: usize, rate: f64, hz: f64, guard: f64) -> (f64, f64) {
    spec.iter()
        .enumerate()
        .map(|(k, l)| (k as f64 * rate / n as f64, *l))
        .filter(|(f, _)| (f - hz).abs() > guard)
        .max_by(|a, b| a.1.total_cmp(&b.1))
        .unwrap()
}

/// `frames` of a sine at `hz` sampled at `rate`, amplitude `amp`, phase reduced exactly
/// (integer arithmetic) so every period is sample-for-sample the same.
fn sine(hz: u64, rate: u64, frames: usize, amp: f64) -> Vec<f32> {
    (0..frames as u64)
        .map(|i| (amp * (TAU * ((i * hz) % rate) as f64 / rate as f64).sin()) as f32)
        .collect()
}

fn deinterleave(samples: &[f32]) -> Vec<Vec<f32>> {
    vec![
        samples.iter().step_by(2).copied().collect(),
        samples.iter().skip(1).step_by(2).copied().collect(),
    ]
}

#[test]
fn every_fixture_format_decodes_to_the_same_tone() {
    for ext in ["wav", "flac", "ogg", "mp3"] {
        let path = fixture(&format!("tone-a4-44100.{ext}"));
        let d = decode_file(&path, None).unwrap_or_else(|e| panic!("{ext}: {e}"));
        let frames = d.frames();
        let peak_abs = d
            .channels
            .iter()
            .flatten()
            .fold(0.0f32, |m, s| m.max(s.abs()));
        let (hz, _) = {
            let spec = spectrum_dbfs(&d.channels[0], &hann(frames));
            peak(&spec, frames, d.rate as f64)
        };
        println!(
            "{ext:>4}: {frames} frames, {} Hz, {} channels, tone {hz:.3} Hz, peak {:.2} dBFS",
            d.rate,
            d.channels.len(),
            db(peak_abs as f64)
        );
        assert_eq!(d.rate, 44_100, "{ext}");
        assert_eq!(d.channels.len(), 2, "{ext}");
        assert!(d.channels.iter().all(|c| c.len() == frames), "{ext}");
        // symphonia trims the encoder delay and padding of the lossy files too
        assert_eq!(frames, 44_100, "{ext}");
        assert!((hz - 440.0).abs() < 0.5, "{ext}: {hz} Hz");
        assert!(
            (db(peak_abs as f64) + 12.0).abs() < 0.6,
            "{ext}: peak {} dBFS",
            db(peak_abs as f64)
        );
        if ext == "wav" || ext == "flac" {
            assert_eq!(d.channels[0], d.channels[1], "{ext}: channels differ");
        }
    }
    // FLAC is lossless: exactly the WAV's samples
    let wav = decode_file(&fixture("tone-a4-44100.wav"), None).unwrap();
    let flac = decode_file(&fixture("tone-a4-44100.flac"), None).unwrap();
    assert_eq!(wav, flac);
    // a limit cuts decoding short
    let cut = decode_file(&fixture("tone-a4-44100.ogg"), Some(0.25)).unwrap();
    assert_eq!(cut.frames(), 11_025);
}

#[test]
fn a_looped_1k_sine_resampled_to_48k_is_clean_to_minus_90_dbfs() {
    // 1000 periods in 44100 samples at −1 dBFS, two channels
    let amp = 10f64.powf(-1.0 / 20.0);
    let x = sine(1000, 44_100, 44_100, amp);
    let ch = vec![x.clone(), x];
    let y = resample_loop(&ch, 0, 44_100, 44_100, 48_000, 1.0).unwrap();
    assert_eq!(y.len(), 2);
    println!("resample_loop: {} frames", y[0].len());
    assert!(
        (y[0].len() as i64 - 48_000).abs() <= 1,
        "{} frames",
        y[0].len()
    );
    assert_eq!(y[0], y[1], "the channels were resampled differently");
    assert!(y[0].len() >= 48_000, "too short for a 48000-point FFT");
    // exactly 1000 periods at 48 kHz: a rectangular window is exact, and the FFT sees
    // the loop played round, so a click at the loop point would show as spurious bins
    let n = 48_000;
    let spec = spectrum_dbfs(&y[0][..n], &rectangular(n));
    let (hz, level) = peak(&spec, n, 48_000.0);
    let (spur_hz, spur) = worst_spur(&spec, n, 48_000.0, 1000.0, 20.0);
    println!(
        "resample_loop 44.1k→48k: tone {hz:.4} Hz at {level:.3} dBFS; worst spurious \
         {spur:.1} dBFS at {spur_hz:.0} Hz (rectangular window, 48000 points)"
    );
    assert!((hz - 1000.0).abs() < 0.1, "{hz} Hz");
    assert!((level + 1.0).abs() < 0.1, "tone at {level} dBFS");
    assert!(
        spur < -90.0,
        "spurious {spur:.1} dBFS at {spur_hz:.0} Hz (limit −90 dBFS)"
    );
    // the loop point itself: the step across it is a step of the sine, no more
    let l = &y[0];
    let step = (l[0] - l[n - 1]).abs() as f64;
    let max_step = TAU * 1000.0 / 48_000.0 * amp;
    assert!(step <= max_step * 1.001, "{step} across the loop point");
}

#[test]
fn a_1k_sine_resampled_to_48k_is_clean_to_minus_90_dbfs_in_the_middle() {
    // 2 s at −1 dBFS; the middle second (frames 24000..72000 of the output) is examined
    // with a 7-term Blackman-Harris window: every bin farther than 20 Hz from 1 kHz
    // below −90 dBFS (the window's own sidelobes are under −180 dB, its main lobe ±7 Hz)
    let amp = 10f64.powf(-1.0 / 20.0);
    let x = sine(1000, 44_100, 88_200, amp);
    let y = resample(&[x], 44_100, 48_000, 1.0).unwrap();
    println!("resample: {} frames from 88200", y[0].len());
    assert_eq!(y[0].len(), 96_000);
    let n = 48_000;
    let mid = &y[0][24_000..24_000 + n];
    let spec = spectrum_dbfs(mid, &blackman_harris7(n));
    let (hz, level) = peak(&spec, n, 48_000.0);
    let (spur_hz, spur) = worst_spur(&spec, n, 48_000.0, 1000.0, 20.0);
    println!(
        "resample 44.1k→48k, middle second: tone {hz:.4} Hz at {level:.3} dBFS; worst \
         spurious {spur:.1} dBFS at {spur_hz:.0} Hz (7-term Blackman-Harris, 48000 points)"
    );
    assert!((hz - 1000.0).abs() < 0.1, "{hz} Hz");
    assert!((level + 1.0).abs() < 0.1, "tone at {level} dBFS");
    assert!(
        spur < -90.0,
        "spurious {spur:.1} dBFS at {spur_hz:.0} Hz (limit −90 dBFS)"
    );
    // the same second through a rectangular window (exact: 1000 whole periods)
    let spec = spectrum_dbfs(mid, &rectangular(n));
    let (spur_hz, spur) = worst_spur(&spec, n, 48_000.0, 1000.0, 20.0);
    println!("  rectangular window: worst spurious {spur:.1} dBFS at {spur_hz:.0} Hz");
    assert!(
        spur < -90.0,
        "spurious {spur:.1} dBFS at {spur_hz:.0} Hz (limit −90 dBFS)"
    );
}

#[test]
fn bundled_items_load_at_the_library_loudness() {
    let lib = ContentLibrary::bundled();
    let loaded = lib.load_all(48_000);
    assert!(loaded.notices.is_empty(), "{:?}", loaded.notices);
    let target = -23.0;

    // every loop, as loaded, measures the target
    assert_eq!(loaded.content.loops.len(), 2);
    for l in &loaded.content.loops {
        let ch = deinterleave(l.audio.samples());
        let lufs = integrated_lufs(&ch, 48_000).expect("measurable");
        let item = loaded.items.iter().find(|i| i.id == l.id).unwrap();
        println!(
            "loop {:<18} {:6.2} s  {:7.2} LUFS after loading (measured {:.2} LUFS before, \
             gain {:+.2} dB)",
            l.id,
            l.audio.frames() as f64 / 48_000.0,
            lufs,
            item.loudness_lufs.unwrap(),
            item.gain_db
        );
        assert!(
            (lufs - target).abs() <= 0.5,
            "{}: {lufs} LUFS, not {target}",
            l.id
        );
        assert!(l.audio.samples().iter().all(|s| s.is_finite()));
    }

    // the instrument: one gain for every zone. Each zone is compared with its file
    // decoded here and converted to 48 kHz independently; the least-squares gain of zone
    // over reference must be the same for all 18 zones (to 0.01 dB) and equal to the
    // gain reported, and that gain brings the median zone (first 3 s) to the target.
    let inst = loaded.content.pulse.as_ref().expect("the piano loaded");
    let item = loaded
        .items
        .iter()
        .find(|i| i.kind == "instrument")
        .unwrap();
    assert_eq!(inst.zones.len(), 18);
    let entry = lib.instrument_entries()[0].1.clone();
    let mut files: Vec<(i32, PathBuf)> = entry
        .samples
        .iter()
        .map(|s| {
            (
                s.note.midi().unwrap(),
                bundled_file(&s.file.to_string_lossy()),
            )
        })
        .collect();
    files.sort_by_key(|f| f.0);
    let mut gains_db = Vec::new();
    let mut zone_lufs = Vec::new();
    for (zone, (midi, file)) in inst.zones.iter().zip(&files) {
        let nominal = 440.0 * 2f64.powf((*midi as f64 - 69.0) / 12.0);
        let cents = 1200.0 * (zone.hz as f64 / nominal).log2();
        assert!(cents.abs() < 60.0, "MIDI {midi}: zone at {} Hz", zone.hz);
        let d = decode_file(file, Some(entry.length_s as f64)).unwrap();
        let reference = resample(&d.channels, d.rate, 48_000, 1.0).unwrap();
        let got = deinterleave(zone.audio.samples());
        // before the fade over the last 0.3 s of a cut sample
        let n = (5 * 48_000).min(got[0].len()).min(reference[0].len());
        let (mut xy, mut xx) = (0.0f64, 0.0f64);
        for c in 0..2 {
            for i in 0..n {
                xy += got[c][i] as f64 * reference[c][i] as f64;
                xx += reference[c][i] as f64 * reference[c][i] as f64;
            }
        }
        gains_db.push(db(xy / xx));
        let head: Vec<Vec<f32>> = got.iter().map(|c| c[..3 * 48_000].to_vec()).collect();
        zone_lufs.push(integrated_lufs(&head, 48_000).unwrap());
    }
    println!(
        "instrument {}: gain reported {:+.3} dB, per zone {:+.3}..{:+.3} dB",
        item.id,
        item.gain_db,
        gains_db.iter().cloned().fold(f64::MAX, f64::min),
        gains_db.iter().cloned().fold(f64::MIN, f64::max)
    );
    for g in &gains_db {
        assert!((g - item.gain_db).abs() < 0.01, "{gains_db:?}");
    }
    zone_lufs.sort_by(f64::total_cmp);
    let median = zone_lufs[zone_lufs.len() / 2];
    println!(
        "  zones (first 3 s) {:.2}..{:.2} LUFS, median {median:.2} LUFS",
        zone_lufs[0],
        zone_lufs[zone_lufs.len() - 1]
    );
    assert!((median - target).abs() <= 0.5, "median zone {median} LUFS");
}

#[test]
fn broken_files_fail_with_the_right_reason() {
    let missing = decode_file(&fixture("no-such-file.wav"), None).unwrap_err();
    assert!(matches!(missing, DecodeError::Unreadable(_)), "{missing:?}");
    let corrupt = decode_file(&fixture("corrupt.ogg"), None).unwrap_err();
    assert!(matches!(corrupt, DecodeError::Corrupt(_)), "{corrupt:?}");
    let text = decode_file(&fixture("not-audio.flac"), None).unwrap_err();
    assert!(matches!(text, DecodeError::Unsupported(_)), "{text:?}");
    let midi = decode_file(&fixture("unsupported.mid"), None).unwrap_err();
    assert!(matches!(midi, DecodeError::Unsupported(_)), "{midi:?}");
    for e in [&missing, &corrupt, &text, &midi] {
        println!("{e:?}: {e}");
    }
}

const BROKEN_MANIFEST: &str = r#"[library]
name = "fixtures"

[[instrument]]
id = "tone-keys"
tags = ["fixture"]
length_s = 2.0
samples = [
  { note = "A4", file = "tone-a4-44100.wav" },
  { note = "C5", file = "missing-c5.ogg" },
]

[[loop]]
id = "good-tone"
file = "tone-a4-44100.flac"
tempo = 120.0
beats = 2
tags = ["fixture"]

[[loop]]
id = "gone"
file = "gone.wav"
tags = ["fixture"]

[[loop]]
id = "damaged"
file = "corrupt.ogg"
tags = ["fixture"]

[[loop]]
id = "text"
file = "not-audio.flac"
tags = ["fixture"]

[[loop]]
id = "midi"
file = "unsupported.mid"
tags = ["fixture"]
"#;

#[test]
fn bad_files_in_a_library_are_named_and_the_rest_loads() {
    let dir = tempfile::tempdir().unwrap();
    for f in [
        "tone-a4-44100.wav",
        "tone-a4-44100.flac",
        "corrupt.ogg",
        "not-audio.flac",
        "unsupported.mid",
    ] {
        std::fs::copy(fixture(f), dir.path().join(f)).unwrap();
    }
    let manifest = dir.path().join("manifest.toml");
    std::fs::write(&manifest, BROKEN_MANIFEST).unwrap();
    let mut lib = ContentLibrary::empty();
    lib.add_manifest(&manifest).unwrap();
    let mut config = SoundscapeConfig::default();
    config.pulse.instrument = vec!["fixture".into()];
    config.loops.tags = vec!["fixture".into()];
    let loaded = lib.load_for(&config, 48_000);
    for n in &loaded.notices {
        println!("{n}");
    }

    // (item, file, what the message must say)
    let expected = [
        (
            "instrument tone-keys, note C5",
            "missing-c5.ogg",
            "cannot read",
        ),
        ("loop gone", "gone.wav", "cannot read"),
        ("loop damaged", "corrupt.ogg", "damaged audio data"),
        (
            "loop text",
            "not-audio.flac",
            "not a supported audio format",
        ),
        (
            "loop midi",
            "unsupported.mid",
            "not a supported audio format",
        ),
    ];
    assert_eq!(loaded.notices.len(), expected.len(), "{:?}", loaded.notices);
    for (item, file, why) in expected {
        let n = loaded
            .notices
            .iter()
            .find(|n| n.item == item)
            .unwrap_or_else(|| panic!("no notice for {item}: {:?}", loaded.notices));
        assert!(n.error.file.ends_with(file), "{n}");
        assert!(n.error.file.starts_with(dir.path()), "{n}");
        assert!(n.error.message.contains(why), "{n}");
        let shown = n.to_string();
        assert!(
            shown.contains(file) && shown.contains("left out"),
            "{shown}"
        );
    }

    // the instrument keeps its good zone, at the tone's pitch
    let inst = loaded
        .content
        .pulse
        .as_ref()
        .expect("the instrument loaded");
    assert_eq!(inst.id, "tone-keys");
    assert_eq!(inst.zones.len(), 1);
    assert!(
        (inst.zones[0].hz - 440.0).abs() < 0.5,
        "{}",
        inst.zones[0].hz
    );
    // 1 s at 48 kHz
    assert_eq!(inst.zones[0].audio.frames(), 48_000);
    // the good loop loads: 1 s at 48 kHz, two beats, at the library's loudness
    assert_eq!(loaded.content.loops.len(), 1);
    let l = &loaded.content.loops[0];
    assert_eq!(l.id, "good-tone");
    assert_eq!(l.beats, 2);
    assert_eq!(l.audio.frames(), 48_000);
    let lufs = integrated_lufs(&deinterleave(l.audio.samples()), 48_000).unwrap();
    assert!((lufs + 23.0).abs() <= 0.5, "{lufs}");
    assert_eq!(loaded.items.len(), 2, "{:?}", loaded.items);
}

fn parse_err(text: &str) -> isochord_engine::SourceError {
    Manifest::parse(text, Path::new("lib/manifest.toml")).unwrap_err()
}

#[test]
fn manifest_errors_give_file_line_and_field() {
    // an unknown field: serde names it in the message
    let e = parse_err(
        "[library]\nname = \"x\"\n\n[[loop]]\nid = \"a\"\nfile = \"a.wav\"\ntempi = 70.0\n",
    );
    println!("{e}");
    assert_eq!(e.file, Path::new("lib/manifest.toml"));
    assert_eq!(e.line, Some(7), "{e}");
    assert!(e.message.contains("tempi"), "{e}");
    assert!(e.to_string().starts_with("lib/manifest.toml:7:"), "{e}");

    // a bad note name in an instrument's samples
    let e = parse_err(
        "[[instrument]]\nid = \"p\"\ntags = [\"piano\"]\nsamples = [\n  { note = \"C4\", file = \"c.ogg\" },\n  { note = \"E4\", file = \"e.ogg\" },\n  { note = \"X#4\", file = \"x.ogg\" },\n]\n",
    );
    println!("{e}");
    assert_eq!(e.line, Some(7), "{e}");
    assert_eq!(
        e.field.as_deref(),
        Some("instrument.0.samples.2.note"),
        "{e}"
    );
    assert!(
        e.message.contains("X#4") && e.message.contains("not a note"),
        "{e}"
    );
    let shown = e.to_string();
    assert!(shown.starts_with("lib/manifest.toml:7:"), "{e}");
    assert!(shown.contains("field `instrument.0.samples.2.note`"), "{e}");

    // a loop with a tempo but no beats
    let e = parse_err(
        "[[loop]]\nid = \"a\"\nfile = \"a.wav\"\n\n[[loop]]\nid = \"b\"\nfile = \"b.wav\"\ntempo = 70.0\n",
    );
    println!("{e}");
    assert_eq!(e.line, Some(5), "{e}");
    assert_eq!(e.field.as_deref(), Some("loop.1.beats"), "{e}");
    assert!(e.message.contains("beats"), "{e}");
    assert!(e.to_string().starts_with("lib/manifest.toml:5:"), "{e}");

    // the same id twice (ids are unique across instruments and loops)
    let e = parse_err(
        "[[instrument]]\nid = \"p\"\nsamples = [{ note = 60, file = \"c.ogg\" }]\n\n[[loop]]\nid = \"a\"\nfile = \"a.wav\"\n\n[[loop]]\nid = \"p\"\nfile = \"b.wav\"\n",
    );
    println!("{e}");
    assert_eq!(e.line, Some(10), "{e}");
    assert_eq!(e.field.as_deref(), Some("loop.1.id"), "{e}");
    assert!(
        e.message.contains("`p`") && e.message.contains("twice"),
        "{e}"
    );
    assert!(e.to_string().starts_with("lib/manifest.toml:10:"), "{e}");
}

#[test]
fn a_second_load_of_the_same_config_is_served_from_the_cache() {
    let lib = ContentLibrary::bundled();
    let config = Preset::find("piano").unwrap().sound;
    let t = Instant::now();
    let a = lib.load_for(&config, 48_000);
    let first = t.elapsed();
    let t = Instant::now();
    let b = lib.load_for(&config, 48_000);
    let second = t.elapsed();
    println!(
        "load_for(piano, 48 kHz): first {:.1} ms, second {:.3} ms",
        first.as_secs_f64() * 1e3,
        second.as_secs_f64() * 1e3
    );
    assert!(a.notices.is_empty(), "{:?}", a.notices);
    assert_eq!(a.notices, b.notices);
    assert_eq!(a.items, b.items);
    let (pa, pb) = (a.content.pulse.unwrap(), b.content.pulse.unwrap());
    assert!(Arc::ptr_eq(&pa, &pb));
    // pulse and melody ask for the same tags: one instrument shared
    assert!(Arc::ptr_eq(&pa, a.content.melody.as_ref().unwrap()));
    assert!(Arc::ptr_eq(&pb, b.content.melody.as_ref().unwrap()));
    assert_eq!(a.content.loops.len(), 2);
    assert_eq!(a.content.loops.len(), b.content.loops.len());
    for (x, y) in a.content.loops.iter().zip(&b.content.loops) {
        assert!(Arc::ptr_eq(x, y), "{}", x.id);
    }
    // another rate is another load
    let c = lib.load_for(&config, 44_100);
    assert!(!Arc::ptr_eq(&pa, c.content.pulse.as_ref().unwrap()));
}
