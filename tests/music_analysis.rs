//! The music analysis used to measure rendered audio, checked on synthetic signals whose
//! answer is known: chords and bass of synthesised chords, onsets of click trains, the
//! pitches of synthesised notes, pink noise's tilt, mono bass, a swelling tone's
//! loudness, geometric and phrased gaps, and layer stems that add up to the mix.

mod common;
use common::music::*;
use common::*;

/// A small deterministic random source (xorshift64*), uniform in [0, 1).
struct Rand(u64);
impl Rand {
    fn next(&mut self) -> f32 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        ((self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 40) as f32) / (1u64 << 24) as f32
    }
    fn bipolar(&mut self) -> f32 {
        2.0 * self.next() - 1.0
    }
}

fn midi_hz(m: f32) -> f32 {
    440.0 * ((m - 69.0) / 12.0).exp2()
}

/// Adds a note at MIDI `m` from `t0` for `secs` into `x`: partials 1–4 at 1, ½, ¼, ⅛,
/// a 12 ms linear attack and an exponential decay by 60 dB over `decay_s`.
fn add_note(x: &mut [f32], m: f32, t0: f32, secs: f32, amp: f32, decay_s: f32) {
    let f = midi_hz(m);
    let a = (t0 * SR) as usize;
    let n = ((secs * SR) as usize).min(x.len().saturating_sub(a));
    let k = -6.9 / (decay_s * SR);
    for i in 0..n {
        let t = i as f32 / SR;
        let env = (t / 0.012).min(1.0) * (k * i as f32).exp();
        let ph = (std::f64::consts::TAU * f as f64 * i as f64 / SR as f64) as f32;
        let v =
            ph.sin() + 0.5 * (2.0 * ph).sin() + 0.25 * (3.0 * ph).sin() + 0.125 * (4.0 * ph).sin();
        x[a + i] += amp * env * v;
    }
}

/// A sustained chord: each MIDI note held for `secs` at equal level, with quiet noise.
fn chord_signal(notes: &[f32], secs: f32, seed: u64) -> Vec<f32> {
    let mut x = vec![0.0f32; (secs * SR) as usize];
    for &m in notes {
        add_note(&mut x, m, 0.0, secs, 0.05, 1e6);
    }
    let mut r = Rand(seed);
    x.iter_mut().for_each(|v| *v += 0.003 * r.bipolar());
    x
}

#[test]
fn a_c_major_triad_over_c_is_c_major_with_bass_c() {
    // C2 in the bass, C4 E4 G4 above
    let x = chord_signal(&[36.0, 60.0, 64.0, 67.0], 4.0, 1);
    let c = chroma(&x, 4.0);
    let bass = bass_roots(&x, 4.0);
    println!("chroma {:?}, bass {:?}", c[0], bass[0]);
    assert_eq!(bass[0].pc, Some(0));
    let chord = chord_of(&c[0], bass[0].pc).unwrap();
    assert_eq!(chord.name(), "C");
    let frames = chords(&x, 1.0);
    assert_eq!(frames.len(), 4);
    assert!(
        frames
            .iter()
            .all(|c| c.map(|c| c.name()) == Some("C".into())),
        "{frames:?}"
    );
}

#[test]
fn an_a_minor_seventh_over_a_is_am7_not_c6() {
    // A2 bass, A3 C4 E4 G4: the same pitch set as C6, told apart by the bass
    let x = chord_signal(&[45.0, 57.0, 60.0, 64.0, 67.0], 4.0, 2);
    let frames = chords(&x, 2.0);
    println!("{frames:?}");
    assert!(
        frames
            .iter()
            .all(|c| c.map(|c| c.name()) == Some("Am7".into())),
        "{frames:?}"
    );
    // the same notes over C are C6
    let y = chord_signal(&[36.0, 57.0, 60.0, 64.0, 67.0], 4.0, 3);
    assert_eq!(chords(&y, 4.0)[0].unwrap().name(), "C6");
}

#[test]
fn every_quality_is_recognised_at_every_root() {
    // voiced in close position above the root in octave 3, the root doubled in the bass
    let mut wrong = Vec::new();
    for (q, (_, intervals)) in QUALITIES.iter().enumerate() {
        for root in 0..12u8 {
            let chord = Chord { root, quality: q };
            let mut notes: Vec<f32> = vec![36.0 + root as f32];
            notes.extend(intervals.iter().map(|i| 60.0 + (root + i) as f32));
            let x = chord_signal(&notes, 2.0, 7 + q as u64);
            let got = chords(&x, 2.0)[0];
            if got != Some(chord) {
                wrong.push(format!("{} → {:?}", chord, got.map(|c| c.name())));
            }
        }
    }
    assert!(wrong.is_empty(), "{} of 144 wrong: {wrong:?}", wrong.len());
}

#[test]
fn a_progression_is_merged_into_spans_with_their_durations() {
    // C – Am – F – G, 8 s each, played as sustained chords with their roots in the bass
    let prog: [&[f32]; 4] = [
        &[36.0, 60.0, 64.0, 67.0],
        &[45.0, 57.0, 60.0, 64.0],
        &[41.0, 60.0, 65.0, 69.0],
        &[43.0, 59.0, 62.0, 67.0],
    ];
    let mut x = Vec::new();
    for (i, notes) in prog.iter().enumerate() {
        x.extend(chord_signal(notes, 8.0, 10 + i as u64));
    }
    let frames = chords(&x, 1.0);
    let spans = merge_chords(&frames, 1.0, 3.0);
    let names: Vec<String> = spans
        .iter()
        .map(|s| format!("{}@{:.0}+{:.0}", s.chord.unwrap(), s.start_s, s.dur_s))
        .collect();
    println!("{names:?}");
    let got: Vec<String> = spans.iter().map(|s| s.chord.unwrap().name()).collect();
    assert_eq!(got, ["C", "Am", "F", "G"]);
    for s in &spans {
        assert!((s.dur_s - 8.0).abs() <= 1.0, "{names:?}");
    }
    assert_eq!(distinct_chords(&spans).len(), 4);
    let h = harmonies(&chroma(&x, 1.0), &spans, 1.0, 0.9);
    assert_eq!(h.len(), 4, "{h:?}");
    assert!(h.iter().all(|h| (h.dur_s - 8.0).abs() <= 1.0), "{h:?}");
    assert_eq!(chord_at(&spans, 20.0).unwrap().name(), "F");
    // the bass follows the roots, and each window's bass is its chord's root
    let bass = bass_roots(&x, 8.0);
    let pcs: Vec<Option<u8>> = bass.iter().map(|b| b.pc).collect();
    assert_eq!(pcs, [Some(0), Some(9), Some(5), Some(7)]);
    let per_window: Vec<_> = chroma(&x, 8.0)
        .iter()
        .zip(&bass)
        .map(|(c, b)| chord_of(c, b.pc))
        .collect();
    assert_eq!(root_in_bass_share(&per_window, &bass), 1.0);
    // 8 s windows: three changes; 4 s windows: still three (the halves of a chord agree)
    assert_eq!(count_changes(&chroma(&x, 8.0), 0.9), 3);
    assert_eq!(count_changes(&chroma(&x, 4.0), 0.9), 3);
}

#[test]
fn one_sustained_chord_under_a_wandering_melody_is_one_harmony() {
    // D6/9 held for a minute while a melody walks the pentatonic scale over it: the
    // template labels may flicker as notes pass, the harmony count stays at one
    let secs = 60.0;
    let mut x = chord_signal(&[38.0, 50.0, 57.0, 62.0, 64.0, 66.0, 69.0, 71.0], secs, 50);
    let scale = [62.0, 64.0, 66.0, 69.0, 71.0, 74.0, 76.0, 78.0];
    let mut r = Rand(51);
    let mut t = 0.5;
    let mut d = 3usize;
    while t < secs - 2.0 {
        add_note(&mut x, scale[d], t, 2.0, 0.08, 2.0);
        d = (d as i32 + [-1, 1][(r.next() * 2.0) as usize]).clamp(0, 7) as usize;
        t += 0.5 + r.next();
    }
    let frames = chroma(&x, 1.0);
    let spans = merge_chords(&chords(&x, 1.0), 1.0, 4.0);
    let h = harmonies(&frames, &spans, 1.0, 0.9);
    println!(
        "labels {:?}; harmonies {:?}",
        distinct_chords(&spans)
            .iter()
            .map(|c| c.name())
            .collect::<Vec<_>>(),
        h.iter()
            .map(|h| (h.chord.map(|c| c.name()), h.dur_s))
            .collect::<Vec<_>>()
    );
    assert_eq!(h.len(), 1);
    assert_eq!(count_changes(&chroma(&x, 10.0), 0.9), 0);
}

#[test]
fn a_fifth_strongest_in_the_bass_is_found_as_the_fifth() {
    // D2 quiet, A2 loud: the bass analysis names A, and the share of windows with the
    // chord's root in the bass drops to 0
    let mut x = vec![0.0f32; (6.0 * SR) as usize];
    add_note(&mut x, 38.0, 0.0, 6.0, 0.02, 1e6);
    add_note(&mut x, 45.0, 0.0, 6.0, 0.06, 1e6);
    for m in [62.0, 66.0, 69.0] {
        add_note(&mut x, m, 0.0, 6.0, 0.05, 1e6);
    }
    let bass = bass_roots(&x, 3.0);
    assert!(bass.iter().all(|b| b.pc == Some(9)), "{bass:?}");
    let ch: Vec<_> = chroma(&x, 3.0).iter().map(|c| chord_of(c, None)).collect();
    assert!(ch.iter().all(|c| c.unwrap().name() == "D"), "{ch:?}");
    assert_eq!(root_in_bass_share(&ch, &bass), 0.0);
}

#[test]
fn onsets_of_a_click_train_are_found_within_10_ms() {
    let times = [0.5f32, 1.23, 1.61, 2.4, 3.05, 3.3, 4.2, 5.0, 5.77, 6.5];
    let mut x = vec![0.0f32; (7.5 * SR) as usize];
    let mut r = Rand(5);
    x.iter_mut().for_each(|v| *v = 0.002 * r.bipolar());
    for &t in &times {
        let a = (t * SR) as usize;
        for i in 0..48 {
            x[a + i] += 0.5 * (1.0 - i as f32 / 48.0) * if i % 2 == 0 { 1.0 } else { -1.0 };
        }
    }
    let found = onsets(&x);
    println!("{found:?}");
    assert_eq!(found.len(), times.len(), "{found:?}");
    for (f, t) in found.iter().zip(&times) {
        assert!((f - t).abs() <= 0.010, "{f} for {t}");
    }
    let rate = onsets_per_minute(&x);
    assert!((rate - 10.0 / 7.5 * 60.0).abs() < 0.1, "{rate}");
    // steady noise has none
    let noise: Vec<f32> = (0..(5.0 * SR) as usize)
        .map(|_| 0.1 * r.bipolar())
        .collect();
    assert!(onsets(&noise).is_empty(), "{:?}", onsets(&noise));
}

#[test]
fn onsets_of_soft_notes_over_a_pad_are_found_within_25_ms() {
    let mut x = chord_signal(&[50.0, 62.0, 66.0, 69.0], 10.0, 6);
    let times = [0.7f32, 1.5, 2.1, 3.4, 4.0, 5.9, 6.3, 7.7, 8.5];
    for (i, &t) in times.iter().enumerate() {
        add_note(&mut x, 74.0 + (i % 3) as f32 * 2.0, t, 3.0, 0.03, 3.0);
    }
    // the chord's own attack at 0 is an onset too
    let found: Vec<f32> = onsets(&x).into_iter().filter(|&t| t > 0.1).collect();
    println!("{found:?}");
    assert_eq!(found.len(), times.len(), "{found:?}");
    // a soft 12 ms attack rising out of a louder pad and noise is placed where it
    // emerges, within 25 ms of its start
    for (f, t) in found.iter().zip(&times) {
        assert!((f - t).abs() <= 0.025, "{f} for {t}");
    }
}

#[test]
fn a_melody_of_ringing_notes_is_recovered_note_by_note() {
    // repeated notes, steps, a leap, an octave: notes ring 3 s and overlap
    let melody = [62, 64, 66, 66, 69, 74, 71, 69, 62, 62, 57, 81, 78, 66];
    let mut x = vec![0.0f32; (12.0 * SR) as usize];
    let mut t = 0.5;
    let mut times = Vec::new();
    for (i, &m) in melody.iter().enumerate() {
        add_note(&mut x, m as f32, t, 3.0, 0.05 + 0.02 * (i % 3) as f32, 3.0);
        times.push(t);
        t += [0.47, 0.7, 0.94, 0.47, 1.4][i % 5];
    }
    let notes = note_events(&x);
    let got: Vec<i32> = notes.iter().map(|n| n.midi).collect();
    println!("{got:?}");
    assert_eq!(got, melody);
    for (n, t) in notes.iter().zip(&times) {
        assert!((n.t - t).abs() <= 0.010);
    }
}

#[test]
fn a_note_whose_second_partial_is_strongest_is_read_at_its_fundamental() {
    // a low piano-like tone: fundamental at 0.4 of the second partial
    let mut x = vec![0.0f32; (3.0 * SR) as usize];
    for (t0, m) in [(0.5f32, 50.0f32), (1.6, 55.0)] {
        let f = midi_hz(m);
        for i in 0..(1.0 * SR) as usize {
            let t = i as f32 / SR;
            // a 5 ms attack, a decay, and a smooth release over the last 0.3 s
            let release = ((1.0 - t) / 0.3).min(1.0);
            let env = (t / 0.005).min(1.0) * (-3.0 * t).exp() * release * release;
            let ph = std::f32::consts::TAU * f * t;
            x[(t0 * SR) as usize + i] +=
                0.1 * env * (0.4 * ph.sin() + (2.0 * ph).sin() + 0.5 * (3.0 * ph).sin());
        }
    }
    let got: Vec<i32> = note_events(&x).iter().map(|n| n.midi).collect();
    assert_eq!(got, [50, 55]);
}

#[test]
fn a_noise_thump_between_notes_is_not_a_note() {
    // two bell-like notes with a low, decaying noise burst (like a piano's release
    // sample) between them
    let mut x = vec![0.0f32; (4.0 * SR) as usize];
    add_note(&mut x, 69.0, 0.5, 1.0, 0.05, 1.0);
    add_note(&mut x, 74.0, 2.8, 1.0, 0.05, 1.0);
    let mut r = Rand(60);
    let mut lp = 0.0f32;
    let a = (1.7 * SR) as usize;
    for i in 0..(0.4 * SR) as usize {
        lp += 0.05 * (r.bipolar() - lp);
        x[a + i] += 0.6 * lp * (-(i as f32) / (0.08 * SR)).exp();
    }
    let o = onsets(&x);
    let got: Vec<i32> = note_events(&x).iter().map(|n| n.midi).collect();
    println!("onsets {o:?}, notes {got:?}");
    assert!(
        o.iter().any(|t| (t - 1.7).abs() < 0.03),
        "the thump is an onset: {o:?}"
    );
    assert_eq!(got, [69, 74]);
}

/// Pink noise: white noise through Paul Kellet's refined filter (within 0.05 dB of
/// −3 dB/octave above 10 Hz).
fn pink(secs: f32, seed: u64) -> Vec<f32> {
    let mut r = Rand(seed);
    let mut b = [0.0f32; 7];
    (0..(secs * SR) as usize)
        .map(|_| {
            let w = r.bipolar();
            b[0] = 0.99886 * b[0] + w * 0.0555179;
            b[1] = 0.99332 * b[1] + w * 0.0750759;
            b[2] = 0.96900 * b[2] + w * 0.153852;
            b[3] = 0.86650 * b[3] + w * 0.3104856;
            b[4] = 0.55000 * b[4] + w * 0.5329522;
            b[5] = -0.7616 * b[5] - w * 0.0168980;
            let out = b.iter().sum::<f32>() + w * 0.5362;
            b[6] = w * 0.115926;
            0.05 * out
        })
        .collect()
}

#[test]
fn pink_noise_tilts_at_minus_3_db_per_octave_and_white_at_0() {
    let p = spectral_balance(&pink(20.0, 9));
    println!("pink: {p:?}");
    assert!((p.slope_db_per_oct + 3.0).abs() < 0.3, "{p:?}");
    assert!(p.low_mid_excess_db.abs() < 0.5, "{p:?}");
    assert!(p.pink_deviation_db.iter().all(|d| d.abs() < 0.5), "{p:?}");
    let mut r = Rand(10);
    let white: Vec<f32> = (0..(20.0 * SR) as usize)
        .map(|_| 0.1 * r.bipolar())
        .collect();
    let w = spectral_balance(&white);
    println!("white: {w:?}");
    assert!(w.slope_db_per_oct.abs() < 0.3, "{w:?}");
    // white rises 3 dB/octave against pink: 200–500 Hz sits below the pink line
    // through the bands' mean (at −0.5 octave from 1 kHz the line differs by −1.5 dB
    // plus the offset of the bands' mean at about +0.5 octave: −3 dB in all)
    assert!(w.low_mid_excess_db < -2.0, "{w:?}");
    // a boost of 200–500 Hz shows as excess
    let mut boosted = pink(20.0, 11);
    let mut phase = 0.0f32;
    for v in boosted.iter_mut() {
        phase += std::f32::consts::TAU * 300.0 / SR;
        *v += 0.05 * phase.sin();
    }
    let b = spectral_balance(&boosted);
    println!("pink + 300 Hz: {b:?}");
    assert!(b.low_mid_excess_db > 3.0, "{b:?}");
}

#[test]
fn identical_low_channels_give_side_far_under_mid() {
    // 55 and 110 Hz identical in both channels, different content above 150 Hz
    let n = (10.0 * SR) as usize;
    let mut r = Rand(12);
    let mut mono_low = Vec::with_capacity(2 * n);
    let mut wide_low = Vec::with_capacity(2 * n);
    for i in 0..n {
        let t = i as f32 / SR;
        let low = 0.2 * (std::f32::consts::TAU * 55.0 * t).sin()
            + 0.1 * (std::f32::consts::TAU * 110.0 * t).sin();
        let (l, rr) = (
            0.05 * (std::f32::consts::TAU * 1000.0 * t).sin() + 0.01 * r.bipolar(),
            0.05 * (std::f32::consts::TAU * 1500.0 * t).sin() + 0.01 * r.bipolar(),
        );
        mono_low.extend([low + l, low + rr]);
        // uncorrelated lows: different frequencies per channel
        let l_low = 0.2 * (std::f32::consts::TAU * 55.0 * t).sin();
        let r_low = 0.2 * (std::f32::consts::TAU * 82.0 * t).sin();
        wide_low.extend([l_low + l, r_low + rr]);
    }
    let m = low_side_db(&mono_low, 150.0);
    let w = low_side_db(&wide_low, 150.0);
    println!("mono lows: side {m:.1} dB; wide lows: side {w:.1} dB");
    assert!(m < -30.0, "{m}");
    assert!(w.abs() < 1.0, "{w}");
}

/// A 1 kHz tone in both channels whose level is `base_db` + `depth_db`/2 · sin(2π f t).
fn swelling_tone(secs: f32, base_db: f32, depth_db: f32, f: f32) -> Vec<f32> {
    let n = (secs * SR) as usize;
    let mut out = Vec::with_capacity(2 * n);
    for i in 0..n {
        let t = i as f32 / SR;
        let db = base_db + 0.5 * depth_db * (std::f32::consts::TAU * f * t).sin();
        let v = 10f32.powf(db / 20.0) * (std::f32::consts::TAU * 1000.0 * t).sin();
        out.extend([v, v]);
    }
    out
}

#[test]
fn a_tone_swelling_6_db_at_0_1_hz_swings_6_lu_per_breath() {
    let x = swelling_tone(240.0, -20.0, 6.0, 0.1);
    let l = loudness(&x);
    let swing = breath_swing(&l.momentary, 10.0, 10.0);
    let share = breath_fluctuation_share(&l.momentary, 10.0, 10.0);
    println!(
        "integrated {:.2} LUFS, swing {swing:.2} LU, share at the breath rate {share:.3}",
        l.integrated
    );
    assert!((swing - 6.0).abs() < 0.4, "{swing}");
    assert!(share > 0.95, "{share}");
    // a steady 1 kHz tone at −20 dBFS in both channels reads −20 LUFS
    let steady = loudness(&swelling_tone(30.0, -20.0, 0.0, 0.1));
    assert!(
        (steady.integrated + 20.0).abs() < 0.2,
        "{}",
        steady.integrated
    );
    assert!(breath_swing(&steady.momentary, 10.0, 5.0) < 0.1);
    assert_eq!(steady.momentary.len(), 300);
    assert_eq!(steady.short_term.len(), 300);
    // a swell at another rate holds little of its fluctuation at this breath rate
    let other = loudness(&swelling_tone(240.0, -20.0, 6.0, 0.23));
    let share = breath_fluctuation_share(&other.momentary, 10.0, 10.0);
    assert!(share < 0.05, "{share}");
}

#[test]
fn the_breath_locked_swing_keeps_the_breath_and_averages_the_rest_away() {
    // a 4 dB swell every 10 s under steps of ±3 dB every 1.3 s (notes that do not follow
    // the breath)
    let n = (300.0 * SR) as usize;
    let mut x = Vec::with_capacity(2 * n);
    let mut rng = 0x2545_f491u32;
    let mut step_db = 0.0f32;
    for i in 0..n {
        let t = i as f32 / SR;
        if i % (1.3 * SR) as usize == 0 {
            rng ^= rng << 13;
            rng ^= rng >> 17;
            rng ^= rng << 5;
            step_db = (rng % 600) as f32 / 100.0 - 3.0;
        }
        let db = -20.0 + step_db + 2.0 * (std::f32::consts::TAU * 0.1 * t).sin();
        let v = 10f32.powf(db / 20.0) * (std::f32::consts::TAU * 1000.0 * t).sin();
        x.extend([v, v]);
    }
    let l = loudness(&x);
    let locked = breath_locked_swing(&l.momentary, 10.0, 10.0);
    let per_cycle = breath_swing(&l.momentary, 10.0, 10.0);
    println!("breath-locked swing {locked:.2} LU, per-cycle max - min {per_cycle:.2} LU");
    assert!((locked - 4.0).abs() < 0.8, "{locked}");
    assert!(per_cycle > locked + 2.0, "{per_cycle}");
    // a swell at another rate is averaged away
    let other = loudness(&swelling_tone(240.0, -20.0, 6.0, 0.23));
    let locked = breath_locked_swing(&other.momentary, 10.0, 10.0);
    assert!(locked < 1.0, "{locked}");
}

#[test]
fn the_centroid_series_follows_the_tone() {
    let mut x = vec![0.0f32; (4.0 * SR) as usize];
    for (i, v) in x.iter_mut().enumerate() {
        // the phase in f64: an f32 phase of tens of thousands of radians adds noise
        // at −50 dB that would pull the centroid up
        let t = i as f64 / SR as f64;
        let f = if t < 2.0 { 500.0 } else { 2000.0 };
        *v = 0.1 * (std::f64::consts::TAU * f * t).sin() as f32;
    }
    let c = centroid_series(&x, 1.0);
    println!("{c:?}");
    assert_eq!(c.len(), 4);
    assert!(
        (c[0] - 500.0).abs() < 30.0 && (c[3] - 2000.0).abs() < 60.0,
        "{c:?}"
    );
}

#[test]
fn similarity_separates_different_harmony_and_spectrum() {
    let a1 = chord_signal(&[36.0, 60.0, 64.0, 67.0], 6.0, 20);
    let a2 = chord_signal(&[36.0, 60.0, 64.0, 67.0], 6.0, 21);
    let b = chord_signal(&[42.0, 66.0, 70.0, 73.0], 6.0, 22);
    let same = cosine(&features(&a1), &features(&a2));
    let diff = cosine(&features(&a1), &features(&b));
    println!("same chord {same:.4}, a tritone away {diff:.4}");
    assert!(same > 0.99 && diff < 0.8, "{same} {diff}");
    let both: Vec<f32> = a1.iter().chain(&b).copied().collect();
    let m = self_similarity(&window_features(&both, 3.0));
    assert_eq!(m.len(), 4);
    assert!(m[0][1] > 0.99 && m[2][3] > 0.99 && m[0][3] < 0.8, "{m:?}");
    assert!(render_similarity(&a1, &a2, 2.0) > 0.99);
    assert!(render_similarity(&a1, &b, 2.0) < 0.8);
}

#[test]
fn minute_similarity_compares_minutes_of_renders() {
    // two minutes: the first C major, the second F# major
    let x: Vec<f32> = chord_signal(&[36.0, 60.0, 64.0, 67.0], 60.0, 23)
        .into_iter()
        .chain(chord_signal(&[42.0, 66.0, 70.0, 73.0], 60.0, 24))
        .collect();
    let y = chord_signal(&[36.0, 60.0, 64.0, 67.0], 120.0, 25);
    assert!(minute_similarity(&x, 0, &x, 1) < 0.8);
    assert!(minute_similarity(&x, 0, &y, 1) > 0.99);
}

#[test]
fn coin_toss_gaps_look_geometric_and_phrased_gaps_do_not() {
    let grid = 0.25;
    let mut r = Rand(30);
    let mut coin = Vec::new();
    let mut k = 0;
    while coin.len() < 300 {
        k += 1;
        if r.next() < 0.15 {
            // timing jitter of ±10 ms, as onset detection gives
            coin.push(k as f32 * grid + 0.01 * r.bipolar());
            k = 0;
        }
    }
    let g = geometric_fit(&coin, grid);
    let s = gap_stats(&coin);
    println!("coin tosses: {g:?}, {s:?}");
    assert!(g.looks_geometric(), "{g:?}");
    assert!((g.p - 0.15).abs() < 0.03, "{g:?}");
    assert!((s.cv - 0.92).abs() < 0.15, "{s:?}");
    // phrases: four notes a slot or two apart, then a rest of six to nine slots
    let mut phrased = Vec::new();
    for i in 0..75 {
        for k in [1.0, 2.0, 1.0] {
            phrased.push(k * grid);
        }
        phrased.push((6 + i % 4) as f32 * grid);
    }
    let g = geometric_fit(&phrased, grid);
    println!("phrases: {g:?}, {:?}", gap_stats(&phrased));
    assert!(!g.looks_geometric(), "{g:?}");
}

#[test]
fn intervals_are_counted_in_scale_steps() {
    // D major pentatonic: D E F# A B
    let scale = [0, 2, 4, 7, 9];
    // D4 is five octaves above MIDI 2 (the lowest D): degree 25; A4 28; D5 30
    assert_eq!(scale_degree(62, 2, &scale), 25);
    assert_eq!(scale_degree(69, 2, &scale), 28);
    assert_eq!(scale_degree(74, 2, &scale), 30);
    // a note off the scale snaps to the nearest scale tone (F natural → E, lower on a tie)
    assert_eq!(scale_degree(65, 2, &scale), scale_degree(64, 2, &scale));
    let midis = [62, 62, 64, 69, 71, 62, 62, 74];
    let s = interval_stats(&midis, 2, &scale);
    println!("{s:?}");
    // D→D 0, D→E 1, E→A 2, A→B 1, B→D −4, D→D 0, D→D' +5
    assert_eq!(
        (s.n, s.repeated, s.steps, s.skips, s.leaps),
        (7, 2, 2, 1, 2)
    );
    assert!((s.repeated_or_leap_share() - 4.0 / 7.0).abs() < 1e-6);
}

#[test]
fn phrase_final_notes_are_checked_against_the_chord() {
    let d = Chord {
        root: 2,
        quality: 0,
    };
    let g = Chord {
        root: 7,
        quality: 0,
    };
    let spans = [
        ChordSpan {
            start_s: 0.0,
            dur_s: 10.0,
            chord: Some(d),
        },
        ChordSpan {
            start_s: 10.0,
            dur_s: 10.0,
            chord: Some(g),
        },
    ];
    let note = |t: f32, midi: i32| NoteEvent { t, hz: 0.0, midi };
    // phrase 1 ends on A (a D-chord tone), phrase 2 on E (not a G-chord tone),
    // phrase 3 on B (a G-chord tone); the last note is left out
    let notes = [
        note(0.0, 64),
        note(0.5, 66),
        note(1.0, 69),
        note(4.0, 71),
        note(4.5, 64),
        note(11.0, 62),
        note(11.5, 71),
        note(15.0, 62),
    ];
    let c = cadences(&notes, &spans);
    println!("{c:?}");
    assert_eq!((c.phrase_ends, c.on_chord_tone), (3, 2));
    assert!((c.share() - 2.0 / 3.0).abs() < 1e-6);
    // E F# A B E over D: F# and A are chord tones; D B D over G: all three
    assert!((c.all_notes_share - 5.0 / 8.0).abs() < 1e-6, "{c:?}");
}

#[test]
fn stems_add_up_to_the_full_mix() {
    // the slow leveler follows the whole mix's level, so it is held off here: the
    // stems of a levelled mix would each be levelled on their own
    let mut config = preset("relax");
    config.master.level_range_db = 0.0;
    let content = isochord::Content::none();
    let full = render(&config, 20.0, 4);
    let mut sum = vec![0.0f32; full.len()];
    for layer in isochord::Layer::ALL {
        let stem = music::render_stem(&config, &content, &[layer], 20.0, 4);
        for (s, v) in sum.iter_mut().zip(&stem) {
            *s += v;
        }
    }
    let err: f64 = full
        .iter()
        .zip(&sum)
        .map(|(a, b)| ((a - b) as f64).powi(2))
        .sum();
    let total: f64 = full.iter().map(|a| (*a as f64).powi(2)).sum();
    let rel_db = 10.0 * (err / total).log10();
    println!("stems sum vs full mix: error {rel_db:.1} dB");
    assert!(rel_db < -60.0, "{rel_db}");
    // and one stem alone is not the mix
    let pad = music::render_stem(&config, &content, &[isochord::Layer::Pad], 20.0, 4);
    let pad_err: f64 = full
        .iter()
        .zip(&pad)
        .map(|(a, b)| ((a - b) as f64).powi(2))
        .sum();
    assert!(10.0 * (pad_err / total).log10() > -20.0);
}
