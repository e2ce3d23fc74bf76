//! The safety stage under stress: no NaN, never above the ceiling, no clicks when every
//! parameter is thrown around, fades at both ends.

mod common;
use common::*;
use isochord::{Content, Key, Layer, Param, Scale, Soundscape};

/// Every parameter is thrown between its extremes every 5 s (long enough for most of them
/// to get there at their bounded rates), half of them in opposite phase, layers switch on
/// and off, the key changes; NaN and infinity are thrown in.
fn sweep(t: f32, s: &mut Soundscape) {
    let step = (t / 5.0) as u32;
    let phase = step.is_multiple_of(2);
    for (i, p) in Param::ALL.into_iter().enumerate() {
        let (lo, hi) = p.range();
        let high = if i % 2 == 0 { phase } else { !phase };
        s.set(p, if high { hi } else { lo });
    }
    if step.is_multiple_of(3) {
        s.set(Param::Tempo, f32::NAN);
        s.set(Param::Brightness, f32::INFINITY);
    }
    if step.is_multiple_of(5) {
        let key = Key::new((step % 12) as u8);
        s.set_key(key, Scale::ALL[(step % 7) as usize]);
    }
}

fn all_at(config: &isochord::SoundscapeConfig, high: bool) -> isochord::SoundscapeConfig {
    let mut c = config.clone();
    let v = |p: Param| if high { p.range().1 } else { p.range().0 };
    c.start.tempo = v(Param::Tempo);
    c.start.brightness = v(Param::Brightness);
    c.start.density = v(Param::Density);
    c.start.breath_rate = v(Param::BreathRate);
    c.start.energy = v(Param::Energy);
    c.start.reverb = v(Param::Reverb);
    let g = v(Param::Gain(Layer::Pad));
    c.pad.gain = g;
    c.pulse.gain = g;
    c.melody.gain = g;
    c.noise.gain = g;
    c.breath.gain = g;
    c.master.fade_in_s = 0.0;
    c
}

#[test]
fn sweeps_never_click_exceed_the_ceiling_or_emit_nan() {
    for name in ["sleep", "relax", "focus", "uplift"] {
        let base = preset(name);
        let ceiling = 10f32.powf(base.master.ceiling_dbfs / 20.0);
        let makeup = Soundscape::new(&base, SR, 9).makeup();
        // The sound's own steepest steps, with every parameter parked at each extreme
        // (same makeup gain): the saw edges and noise at full brightness and gain.
        let mut static_step = 0.0f32;
        for high in [false, true] {
            let mut s = Soundscape::with_content_and_makeup(
                &all_at(&base, high),
                &Content::none(),
                SR,
                9,
                makeup,
            );
            let x = render_scape(&mut s, 20.0, &mut |_, _| {});
            static_step = static_step.max(max_step(&x));
        }
        let mut s = Soundscape::with_content_and_makeup(&base, &Content::none(), SR, 9, makeup);
        let x = render_scape(&mut s, 60.0, &mut sweep);
        let step = max_step(&x);
        let pk = peak(&x);
        println!(
            "{name}: sweep max step {step:.4}, static max step {static_step:.4}, peak {pk:.4} (ceiling {ceiling:.4}), nan blocks {}",
            s.take_meter().nan_blocks
        );
        assert!(x.iter().all(|v| v.is_finite()), "{name}: non-finite output");
        assert!(
            pk <= ceiling + 1e-6,
            "{name}: peak {pk} above ceiling {ceiling}"
        );
        // Parameter motion is slew-limited and gains ramp per sample, so sweeping must
        // add no discontinuity the sound does not already have when parked: allow 25 %
        // over the steepest parked step.
        assert!(
            step <= 1.25 * static_step,
            "{name}: sweep step {step} vs parked {static_step}"
        );
    }
}

#[test]
fn hot_settings_are_held_under_the_ceiling() {
    let mut c = all_at(&preset("uplift"), true);
    c.master.loudness_dbfs = -6.0;
    c.master.ceiling_dbfs = -1.0;
    let mut s = Soundscape::new(&c, SR, 2);
    let x = render_scape(&mut s, 20.0, &mut |_, _| {});
    let meter = s.take_meter();
    let ceiling = 10f32.powf(-1.0 / 20.0);
    println!(
        "peak {:.4}, limiter min gain {:.3}",
        peak(&x),
        meter.limiter_min_gain
    );
    assert!(peak(&x) <= ceiling + 1e-6);
    assert!(
        meter.limiter_min_gain < 1.0,
        "this setting must need the limiter"
    );
}

#[test]
fn fades_in_at_the_start_and_out_to_silence() {
    let c = preset("relax");
    let mut s = Soundscape::new(&c, SR, 1);
    let x = mono(&render_scape(&mut s, 12.0, &mut |t, s| {
        if (7.0..7.05).contains(&t) {
            s.fade_out(3.0);
        }
    }));
    let env = envelope(&x, 0.25);
    // rising through the 5 s fade-in
    assert!(env[0] < env[8] * 0.2, "{:?}", &env[..12]);
    assert!(env[1] < env[4] && env[4] < env[12], "{:?}", &env[..16]);
    // silent once the 3 s fade-out from 7 s has run (plus the limiter's 1.5 ms)
    let tail = &x[(10.1 * SR) as usize..];
    assert!(peak(tail) < 1e-6, "tail peak {}", peak(tail));
    assert!(s.faded_out());
}

#[test]
fn loudness_lands_on_each_presets_target() {
    for name in ["sleep", "relax", "focus", "uplift"] {
        let mut c = preset(name);
        c.master.fade_in_s = 0.0;
        let x = render(&c, 40.0, 11);
        let level = rms_db(&x[(4.0 * SR) as usize * 2..]);
        println!(
            "{name}: {level:.1} dBFS RMS (target {})",
            c.master.loudness_dbfs
        );
        assert!(
            (level - c.master.loudness_dbfs).abs() < 1.5,
            "{name}: {level} dBFS"
        );
    }
}

#[test]
fn key_change_waits_for_the_bar_and_crossfades() {
    let mut c = preset("relax");
    c.master.fade_in_s = 0.0;
    c.noise.enabled = false;
    c.breath.enabled = false;
    c.melody.enabled = false;
    c.pulse.enabled = false;
    c.pad.drift_cents = 0.0;
    c.start.reverb = 0.0;
    let mut s = Soundscape::new(&c, SR, 3);
    let x = mono(&render_scape(&mut s, 30.0, &mut |t, s| {
        // at 64 BPM a bar lasts 3.75 s: bar lines at 7.5 s and 11.25 s
        if (10.0..10.05).contains(&t) {
            s.set_key(Key::new(9), Scale::Dorian);
        }
        if (10.0..11.2).contains(&t) {
            assert_eq!(
                s.key().0,
                Key::new(2),
                "changed before the bar line at {t} s"
            );
        }
        if t >= 11.4 {
            assert_eq!(
                s.key().0,
                Key::new(9),
                "not changed at the bar line ({t} s)"
            );
        }
    }));
    assert_eq!(s.key(), (Key::new(9), Scale::Dorian));
    // D2 (73.4 Hz) is the tonic before; after the crossfade A2 (110 Hz) is, and no D2
    let level = |x: &[f32], hz: f32| {
        let n = 1 << 16;
        let spec = avg_spectrum(x, n);
        let bin = hz / (SR / n as f32);
        let (a, b) = ((bin - 2.0) as usize, (bin + 2.0) as usize);
        spec[a..=b].iter().cloned().fold(0.0, f32::max)
    };
    let before = &x[(2.0 * SR) as usize..(10.0 * SR) as usize];
    let after = skip(&x, 20.0);
    let (d_before, a_before) = (level(before, 73.42), level(before, 110.0));
    let (d_after, a_after) = (level(after, 73.42), level(after, 110.0));
    println!("D2/A2 before {d_before:.3}/{a_before:.3}, after {d_after:.3}/{a_after:.3}");
    assert!(d_before > 0.3 * a_before, "D2 sounds before");
    assert!(d_after < 0.03 * a_after, "D2 gone after");
}
