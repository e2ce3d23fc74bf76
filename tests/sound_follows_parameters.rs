//! Each steerable parameter changes the rendered audio the way it promises, measured on
//! the audio itself.

mod common;
use common::*;
use isochord::{Layer, Param};

#[test]
fn lower_brightness_gives_a_lower_spectral_centroid() {
    let base = preset("relax");
    let centroids: Vec<f32> = [0.05, 0.5, 0.95]
        .iter()
        .map(|&b| {
            let x = mono(&render(&with_start(&base, Param::Brightness, b), 16.0, 3));
            spectral_centroid(skip(&x, 6.0))
        })
        .collect();
    println!("centroids (Hz) at brightness 0.05/0.5/0.95: {centroids:?}");
    assert!(centroids[0] * 1.2 < centroids[1], "{centroids:?}");
    assert!(centroids[1] * 1.2 < centroids[2], "{centroids:?}");
}

#[test]
fn brightness_steered_while_playing_moves_the_centroid() {
    let base = with_start(&preset("focus"), Param::Brightness, 0.1);
    let x = mono(&render_with(&base, 24.0, 5, |t, s| {
        if t >= 8.0 {
            s.set(Param::Brightness, 0.9);
        }
    }));
    // brightness moves at most 0.2/s: at 0.9 by about 12.5 s
    let before = spectral_centroid(&x[(3.0 * SR) as usize..(8.0 * SR) as usize]);
    let after = spectral_centroid(skip(&x, 16.0));
    println!("centroid before {before:.0} Hz, after {after:.0} Hz");
    assert!(after > before * 1.5, "{before} → {after}");
}

fn pulse_only(tempo: f32) -> isochord::SoundscapeConfig {
    let mut c = with_start(&preset("relax"), Param::Tempo, tempo);
    c.melody.enabled = false;
    c.noise.enabled = false;
    c.breath.enabled = false;
    c.start.reverb = 0.1;
    c
}

#[test]
fn onset_rate_follows_tempo() {
    for tempo in [48.0, 72.0, 110.0] {
        let x = mono(&render(&pulse_only(tempo), 30.0, 1));
        let rate = onset_rate(skip(&x, 5.0));
        println!("tempo {tempo} BPM → {rate:.1} onsets/min");
        assert!(
            (rate - tempo).abs() <= 0.08 * tempo,
            "tempo {tempo}: {rate} onsets per minute"
        );
    }
}

#[test]
fn full_mix_onset_rate_rises_with_tempo() {
    let base = preset("uplift");
    let slow = onset_rate(skip(
        &mono(&render(&with_start(&base, Param::Tempo, 50.0), 30.0, 2)),
        5.0,
    ));
    let fast = onset_rate(skip(
        &mono(&render(&with_start(&base, Param::Tempo, 110.0), 30.0, 2)),
        5.0,
    ));
    println!("uplift onsets/min: {slow:.1} at 50 BPM, {fast:.1} at 110 BPM");
    assert!(fast > slow * 1.6, "{slow} → {fast}");
}

fn pad_only(density: f32) -> isochord::SoundscapeConfig {
    let mut c = with_start(&preset("relax"), Param::Density, density);
    for l in [Layer::Pulse, Layer::Melody, Layer::Noise, Layer::Breath] {
        match l {
            Layer::Pulse => c.pulse.enabled = false,
            Layer::Melody => c.melody.enabled = false,
            Layer::Noise => c.noise.enabled = false,
            Layer::Breath => c.breath.enabled = false,
            Layer::Pad | Layer::Loops => {}
        }
    }
    c.start.brightness = 0.3;
    c.start.reverb = 0.0;
    c.pad.drift_cents = 0.0;
    c
}

#[test]
fn higher_density_gives_more_spectral_peaks_in_the_pad() {
    let counts: Vec<usize> = [0.0, 0.5, 1.0]
        .iter()
        .map(|&d| {
            let x = mono(&render(&pad_only(d), 12.0, 4));
            let peaks = tonal_peaks(skip(&x, 4.0), 60.0, 1000.0);
            println!("density {d}: {} peaks {:?}", peaks.len(), peaks);
            peaks.len()
        })
        .collect();
    assert!(counts[0] < counts[1] && counts[1] < counts[2], "{counts:?}");
}

#[test]
fn bare_fifth_at_density_zero() {
    // D2 pentatonic major: the two lowest peaks are D2 (73.4 Hz) and A2 (110 Hz)
    let x = mono(&render(&pad_only(0.0), 12.0, 4));
    let peaks = tonal_peaks(skip(&x, 4.0), 60.0, 125.0);
    println!("{peaks:?}");
    assert_eq!(peaks.len(), 2, "{peaks:?}");
    assert!(
        (peaks[0] - 73.42).abs() < 1.5 && (peaks[1] - 110.0).abs() < 1.5,
        "{peaks:?}"
    );
}

#[test]
fn breath_rate_sets_the_period_of_the_loudness_envelope() {
    for rate in [4.0, 6.0, 12.0] {
        let c = with_start(&preset("relax"), Param::BreathRate, rate);
        let x = mono(&render(&c, 65.0, 6));
        let period = envelope_period(skip(&x, 5.0), 2.5, 20.0);
        let want = 60.0 / rate;
        println!("breath {rate}/min: envelope period {period:.2} s (want {want:.2} s)");
        assert!(
            (period - want).abs() <= 0.05 * want,
            "{rate}/min: {period} s"
        );
    }
}

#[test]
fn each_seed_sounds_in_its_own_key() {
    // focus moves its key with the seed (`harmony.seed_transpose`): the pad's bass, the
    // tonic under the first chord, follows, and consecutive seeds are in different keys
    let sound = isochord::Preset::find("focus").unwrap().sound;
    let shifts = sound.harmony.seed_transpose.clone();
    assert!(shifts.len() >= 2, "{shifts:?}");
    let tonic = sound.key.pitch_class() as i32;
    let pad = only_layers(&sound, &[Layer::Pad]);
    let heard: Vec<Option<u8>> = (0..shifts.len() as u64)
        .map(|seed| {
            let x = mono(&render(&pad, 10.0, seed));
            common::music::bass_roots(skip(&x, 4.0), 6.0)[0].pc
        })
        .collect();
    let want: Vec<Option<u8>> = shifts
        .iter()
        .map(|s| Some((tonic + s).rem_euclid(12) as u8))
        .collect();
    println!("bass pitch class per seed: {heard:?} (expected {want:?})");
    assert_eq!(heard, want);
    assert!(heard.windows(2).all(|w| w[0] != w[1]), "{heard:?}");
}
