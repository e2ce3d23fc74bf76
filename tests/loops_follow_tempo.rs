//! Recorded loops follow the soundscape's tempo: slices of tuned loops land on the beat
//! at their recorded pitch; untuned loops play faster or slower through the variable-ratio
//! resampler, pitch moving with them. Tuned loops play only in keys they fit.

mod common;

use common::*;
use isochord::{ContentLibrary, Key, Layer, Param, Scale, Soundscape};
use std::path::Path;

/// The piano preset's loops layer alone, choosing only items tagged `tag`, at `tempo`.
fn loops_only(tag: &str, tempo: f32) -> isochord::SoundscapeConfig {
    let mut c = only_layers(&preset("piano"), &[Layer::Loops]);
    c.loops.tags = vec![tag.to_string()];
    c.loops.layers = 1;
    c.pulse.instrument.clear();
    c.melody.instrument.clear();
    c.master.fade_in_s = 0.0;
    c.start.reverb = 0.0;
    c.start.brightness = 1.0;
    c.start.density = 0.0;
    with_start(&c, Param::Tempo, tempo)
}

#[test]
fn the_piano_arpeggio_keeps_the_beat_and_its_pitch_at_0_8_and_1_2_times() {
    // recorded at 70 BPM, one note per beat, D major pentatonic (with A4 = 440 Hz)
    let library = ContentLibrary::bundled();
    for factor in [0.8f32, 1.0, 1.2] {
        let tempo = 70.0 * factor;
        let c = loops_only("arpeggio", tempo);
        let loaded = library.load_for(&c, SR as u32);
        assert_eq!(loaded.content.loops.len(), 1, "{:?}", loaded.notices);
        let x = mono(&render_content(&c, &loaded.content, 40.0, 1));
        let onsets = onset_rate(skip(&x, 2.0));
        let a4 = peak_frequency(skip(&x, 2.0), 430.0, 450.0);
        let cents = 1200.0 * (a4 / 440.0).log2();
        println!("arpeggio at {factor}× ({tempo:.0} BPM): {onsets:.1} onsets/min, A4 at {a4:.2} Hz ({cents:+.1} cents)");
        assert!(
            (onsets - tempo).abs() <= 0.05 * tempo,
            "{onsets} onsets/min at {tempo} BPM"
        );
        assert!(cents.abs() < 5.0, "slices keep the recorded pitch: {a4}");
    }
}

/// Writes a 44.1 kHz loop of 4 beats at 60 BPM, each beat a 2 kHz ping, and a manifest
/// naming it as an untuned loop tagged `ping`.
fn ping_library(dir: &Path) -> std::path::PathBuf {
    let sr = 44_100u32;
    let beat = sr as usize;
    let spec = hound::WavSpec {
        channels: 2,
        sample_rate: sr,
        bits_per_sample: 32,
        sample_format: hound::SampleFormat::Float,
    };
    let mut w = hound::WavWriter::create(dir.join("ping.wav"), spec).unwrap();
    for i in 0..4 * beat {
        let t = (i % beat) as f32 / sr as f32;
        let v = 0.5 * (-t / 0.03).exp() * (std::f32::consts::TAU * 2000.0 * t).sin();
        w.write_sample(v).unwrap();
        w.write_sample(v).unwrap();
    }
    w.finalize().unwrap();
    let manifest = dir.join("manifest.toml");
    std::fs::write(
        &manifest,
        "[library]\nname = \"pings\"\n\n[[loop]]\nid = \"ping\"\nfile = \"ping.wav\"\ntempo = 60.0\nbeats = 4\ntags = [\"ping\"]\n",
    )
    .unwrap();
    manifest
}

#[test]
fn an_untuned_loop_is_resampled_to_the_tempo() {
    let dir = tempfile::tempdir().unwrap();
    let mut library = ContentLibrary::empty();
    library.add_manifest(&ping_library(dir.path())).unwrap();
    for factor in [0.8f32, 1.2] {
        let tempo = 60.0 * factor;
        let c = loops_only("ping", tempo);
        let loaded = library.load_for(&c, SR as u32);
        assert!(loaded.notices.is_empty(), "{:?}", loaded.notices);
        let x = mono(&render_content(&c, &loaded.content, 40.0, 1));
        let onsets = onset_rate(skip(&x, 2.0));
        let ping = peak_frequency(skip(&x, 2.0), 1000.0, 4000.0);
        println!(
            "ping loop at {factor}× ({tempo:.0} BPM): {onsets:.1} onsets/min, ping at {ping:.0} Hz"
        );
        assert!(
            (onsets - tempo).abs() <= 0.05 * tempo,
            "{onsets} onsets/min at {tempo} BPM"
        );
        // varispeed: the pitch moves with the speed
        assert!(
            (ping / (2000.0 * factor) - 1.0).abs() < 0.01,
            "{ping} Hz at {factor}×"
        );
    }
}

#[test]
fn a_tempo_change_mid_loop_is_followed_without_a_click() {
    // the arpeggio at 70 BPM, swept down to 50 and up to 100 while it plays: the onset
    // rate follows each half, and no sample steps further than the music itself does
    let library = ContentLibrary::bundled();
    let c = loops_only("arpeggio", 70.0);
    let content = library.load_for(&c, SR as u32).content;
    let mut s = Soundscape::with_content(&c, &content, SR, 1);
    let x = render_scape(&mut s, 60.0, &mut |t, s| {
        s.set(Param::Tempo, if t < 30.0 { 50.0 } else { 100.0 });
    });
    let m = mono(&x);
    let slow = onset_rate(&m[(10.0 * SR) as usize..(30.0 * SR) as usize]);
    let fast = onset_rate(&m[(45.0 * SR) as usize..]);
    let steady = max_step(&m[(45.0 * SR) as usize..]);
    let whole = max_step(&m);
    println!("tempo 50 → {slow:.1} onsets/min, 100 → {fast:.1}; largest step {whole:.4} (steady {steady:.4})");
    assert!((slow - 50.0).abs() <= 2.5, "{slow}");
    assert!((fast - 100.0).abs() <= 5.0, "{fast}");
    assert!(
        whole < 2.0 * steady.max(0.01),
        "a click: {whole} against {steady}"
    );
}

/// The deepest dip of the 20 ms RMS envelope between consecutive beats, in dB below the
/// louder of the two beats' peaks, as the median over the beats of `x` (at `tempo`).
fn median_dip_db(x: &[f32], tempo: f32) -> f32 {
    let env = envelope(x, 0.02);
    let per_beat = 60.0 / tempo / 0.02;
    let mut dips: Vec<f32> = (0..)
        .map(|k| (k as f32 * per_beat) as usize)
        .take_while(|&i| i + 2 * per_beat as usize <= env.len())
        .map(|i| {
            let beat = &env[i..i + per_beat as usize];
            let peak = beat.iter().fold(0.0f32, |m, v| m.max(*v));
            // the quietest moment before the next beat (its onset excluded)
            let before_next = &beat[beat.len() / 2..beat.len() - 1];
            let low = before_next.iter().fold(f32::INFINITY, |m, v| m.min(*v));
            20.0 * (low.max(1e-7) / peak.max(1e-7)).log10()
        })
        .collect();
    dips.sort_by(f32::total_cmp);
    dips[dips.len() / 2]
}

/// The median spectral centroid of the second half of each beat (up to its last 5 %).
fn late_centroid(x: &[f32], tempo: f32) -> f32 {
    let beat = (60.0 / tempo * SR) as usize;
    let mut c: Vec<f32> = x
        .chunks_exact(beat)
        .map(|b| spectral_centroid(&b[beat / 2..beat * 95 / 100]))
        .collect();
    c.sort_by(f32::total_cmp);
    c[c.len() / 2]
}

#[test]
fn slices_at_a_slow_tempo_sustain_instead_of_falling_silent() {
    let library = ContentLibrary::bundled();
    let (mut dips, mut steps, mut centroids): (Vec<f32>, Vec<f32>, Vec<f32>) =
        (Vec::new(), Vec::new(), Vec::new());
    for factor in [1.0f32, 0.6] {
        let tempo = 70.0 * factor;
        let c = loops_only("arpeggio", tempo);
        let loaded = library.load_for(&c, SR as u32);
        let stereo = render_content(&c, &loaded.content, 40.0, 1);
        let x = mono(&stereo);
        // align the envelope to the beat: the first beat falls at 0
        let dip = median_dip_db(skip(&x, 60.0 / tempo * 2.0), tempo);
        let centroid = late_centroid(skip(&x, 60.0 / tempo * 2.0), tempo);
        let onsets = onset_rate(skip(&x, 2.0));
        // relative to the peak: the soundscape calibrates its loudness per tempo
        let after = &stereo[2 * SR as usize..];
        let step = max_step(after) / peak(after);
        println!("arpeggio at {factor}× ({tempo:.0} BPM): {onsets:.1} onsets/min, median dip before the next beat {dip:.1} dB, late-beat centroid {centroid:.0} Hz, largest sample step {step:.4} of the peak");
        assert!(
            (onsets - tempo).abs() <= 0.05 * tempo,
            "{onsets} at {tempo}"
        );
        dips.push(dip);
        steps.push(step);
        centroids.push(centroid);
    }
    // the recording's own dip at its tempo, and at 0.6× no more than 12 dB deeper
    assert!(dips[1] > dips[0] - 12.0, "{dips:?}");
    // turning back and forth adds no step beyond the music's own
    assert!(steps[1] <= 1.1 * steps[0], "{steps:?}");
    // nor buzz: the sustained halves of beats are no brighter than the recording's own
    assert!(centroids[1] <= 1.25 * centroids[0], "{centroids:?}");
}

#[test]
fn a_tuned_loop_fades_out_in_a_key_it_does_not_fit_and_returns_when_it_fits() {
    // the arpeggio is D major pentatonic: it fits D minor pentatonic? no (F# against F);
    // A dorian: yes (every note of it is in A dorian); back in D major pentatonic: yes
    let library = ContentLibrary::bundled();
    let c = loops_only("arpeggio", 70.0);
    let loaded = library.load_for(&c, SR as u32);
    assert_eq!(loaded.content.loops.len(), 1, "{:?}", loaded.notices);
    let mut s = Soundscape::with_content(&c, &loaded.content, SR, 1);
    let key = |k: &str| k.parse::<Key>().unwrap();
    let changes = [
        (10.0, key("D"), Scale::PentatonicMinor),
        (20.0, key("A"), Scale::Dorian),
        (30.0, key("D"), Scale::PentatonicMinor),
        (40.0, key("D"), Scale::PentatonicMajor),
    ];
    let x = mono(&render_scape(&mut s, 50.0, &mut |t, s| {
        for (at, k, sc) in changes {
            if (t - at).abs() < 0.05 {
                s.set_key(k, sc);
            }
        }
    }));
    // the key changes at the next bar (≤ 3.4 s at 70 BPM), then a crossfade: measure the
    // last 5 s of each 10 s span
    let level: Vec<f32> = (0..5)
        .map(|k| {
            rms_db(&x[((10 * k + 5) as f32 * SR) as usize..((10 * k + 10) as f32 * SR) as usize])
        })
        .collect();
    println!("arpeggio in D maj. pent., D min. pent., A dorian, D min. pent., D maj. pent.: {level:.1?} dB");
    assert!(level[0] > -60.0, "it plays: {level:?}");
    assert!(
        level[1] < level[0] - 60.0,
        "silent where it clashes: {level:?}"
    );
    assert!(
        (level[2] - level[0]).abs() < 3.0,
        "plays where it fits: {level:?}"
    );
    assert!(level[3] < level[0] - 60.0, "{level:?}");
    assert!((level[4] - level[0]).abs() < 3.0, "{level:?}");
}

#[test]
fn an_untuned_loop_stays_on_the_beat_through_ten_minutes_of_tempo_changes() {
    // the ping loop (one ping per beat) while the tempo wanders between 48 and 72 BPM:
    // where each ping starts, measured against the soundscape's own beat clock
    let dir = tempfile::tempdir().unwrap();
    let mut library = ContentLibrary::empty();
    library.add_manifest(&ping_library(dir.path())).unwrap();
    let c = loops_only("ping", 60.0);
    let content = library.load_for(&c, SR as u32).content;
    let mut s = Soundscape::with_content(&c, &content, SR, 1);
    let block = 64usize;
    let minutes = 10.0;
    let blocks = (minutes * 60.0 * SR) as usize / block;
    let mut buf = vec![0.0f32; 2 * block];
    let mut prev = 0.0f32;
    let mut errors_ms = Vec::new();
    for k in 0..blocks {
        let t = (k * block) as f32 / SR;
        if k % 480 == 0 {
            s.set(
                Param::Tempo,
                60.0 + 12.0 * (t / 23.0).sin() * (t / 71.0).cos(),
            );
        }
        let before = s.beat_position();
        s.render(&mut buf);
        let after = s.beat_position();
        for (i, f) in buf.chunks_exact(2).enumerate() {
            let v = f[0].abs();
            // a ping's first sample above a threshold, after silence
            if v > 0.02 && prev <= 0.02 && t > 5.0 {
                let at = before + (after - before) * (i as f64 / block as f64);
                let off = at - at.round(); // beats from the nearest beat
                let tempo = s.value(Param::Tempo) as f64;
                errors_ms.push((off * 60_000.0 / tempo) as f32);
            }
            prev = prev.max(v) * 0.9998; // a slow peak hold (~0.3 s), so one ping counts once
        }
    }
    let n = errors_ms.len();
    let (first, last) = (&errors_ms[..n / 10], &errors_ms[n - n / 10..]);
    let mean = |x: &[f32]| x.iter().sum::<f32>() / x.len() as f32;
    let worst = errors_ms.iter().fold(0.0f32, |m, e| m.max(e.abs()));
    println!(
        "{n} pings over {minutes} min: offset from the beat {:+.2} ms in the first minute, {:+.2} ms in the last, worst {worst:.2} ms",
        mean(first),
        mean(last)
    );
    assert!(n as f32 > 0.8 * 60.0 * (minutes - 0.1), "{n} pings");
    // a fixed offset (the resampler's latency) is fine; drifting from it is not
    assert!(worst < 5.0, "off the beat: {worst} ms");
    assert!(
        (mean(last) - mean(first)).abs() < 1.0,
        "drifts off the beat"
    );
}
