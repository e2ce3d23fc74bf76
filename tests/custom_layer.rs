//! Custom layers (fundsp graphs): what they render follows the steered parameters, is
//! mixed under the ceiling, never carries NaN out, and never allocates on the audio
//! thread. Every figure is measured on rendered audio.

mod common;

use assert_no_alloc::{assert_no_alloc, AllocDisabler};
use common::{mono, only_layers, preset, spectral_centroid, with_start, SR};
use isochord::dsp::custom::{CustomLayer, Steering, MAX_CUSTOM_LAYERS, STEERING_INPUTS};
use isochord::dsp::fundsp::prelude32::*;
use isochord::session::SessionPlan;
use isochord::{new_engine_with_content, Content, Param, Preset, Soundscape, SoundscapeConfig};
use std::sync::atomic::AtomicBool;
use std::time::Duration;

#[global_allocator]
static ALLOCATOR: AllocDisabler = AllocDisabler;

/// The example's wind: pink noise through a Moog ladder whose cutoff follows brightness
/// (250 Hz at 0 … 4 kHz at 1, exponential), its level following the breath swell.
fn wind(s: &Steering) -> Box<dyn AudioUnit> {
    let cutoff = var_fn(&s.brightness, |b| 250.0 * 16f32.powf(b.clamp(0.0, 1.0)));
    let level = var_fn(&s.breath_swell, |w| 0.2 + 0.8 * w);
    Box::new(((pink() | cutoff | dc(0.55)) >> moog()) * level)
}

/// A sound with no built-in layer, no fade-in and a dry room: only the custom layer.
fn bare(config: &SoundscapeConfig) -> SoundscapeConfig {
    let mut c = only_layers(config, &[]);
    c.master.fade_in_s = 0.0;
    c.start.reverb = 0.0;
    c
}

fn with_layers(layers: &[&CustomLayer]) -> Content {
    let mut content = Content::none();
    content.custom = layers.iter().map(|l| (*l).clone()).collect();
    content
}

/// Renders `seconds` in 100 ms ticks, calling `steer` before each with the time.
fn render(
    s: &mut Soundscape,
    seconds: f32,
    mut steer: impl FnMut(f32, &mut Soundscape),
) -> Vec<f32> {
    let tick = (SR / 10.0) as usize;
    let mut out = vec![0.0f32; 2 * (seconds * SR) as usize];
    for (i, chunk) in out.chunks_mut(2 * tick).enumerate() {
        steer(i as f32 * 0.1, s);
        s.render(chunk);
    }
    out
}

fn seconds(x: &[f32], from: f32, to: f32) -> &[f32] {
    &x[(from * SR) as usize..(to * SR) as usize]
}

#[test]
fn the_custom_layers_centroid_rises_with_brightness() {
    let steering = Steering::new();
    let layer = CustomLayer::new("wind", wind(&steering), &steering, 1.0).unwrap();
    let config = with_start(&bare(&preset("relax")), Param::Brightness, 0.1);
    let mut s = Soundscape::with_content(&config, &with_layers(&[&layer]), SR, 1);
    // dark for 6 s, then brightness is raised to 0.9 while it plays (0.2/s: 4 s)
    let x = mono(&render(&mut s, 16.0, |t, s| {
        if t >= 6.0 {
            s.set(Param::Brightness, 0.9);
        }
    }));
    let dark = spectral_centroid(seconds(&x, 1.0, 6.0));
    let bright = spectral_centroid(seconds(&x, 11.0, 16.0));
    println!("wind centroid: brightness 0.1 {dark:.0} Hz, 0.9 {bright:.0} Hz");
    assert!((steering.values().brightness - 0.9).abs() < 1e-3);
    // The cutoff moves from 250·16^0.1 = 330 Hz to 250·16^0.9 = 3.3 kHz, ten times.
    // Pink noise under a plain low-pass has its centroid near fc / ln(fc / 20 Hz)
    // (5.5 times apart here); the ladder's resonance (0.55) lifts the band at the
    // cutoff, so the centroid follows the cutoff more closely (measured: 260 Hz and
    // 2.5 kHz). Asking for three times holds with room to spare, while a filter that
    // stayed put (ratio 1) or moved by less than an octave and a half cannot pass.
    assert!(bright > 3.0 * dark, "{dark} → {bright}");
}

#[test]
fn the_custom_layers_level_follows_the_breath() {
    // the graph takes the steering as inputs this time: noise times the breath swell
    let steering = Steering::new();
    let graph =
        (noise() | multipass::<U8>()) >> map(|f: &Frame<f32, U9>| f[0] * (0.1 + 0.9 * f[1 + 7]));
    assert_eq!(graph.inputs(), STEERING_INPUTS);
    let layer = CustomLayer::new("gust", Box::new(graph), &steering, 1.0).unwrap();
    let config = with_start(&bare(&preset("relax")), Param::BreathRate, 6.0);
    let mut s = Soundscape::with_content(&config, &with_layers(&[&layer]), SR, 2);
    // 100 ms frames: the output's RMS and the swell the engine reports for each
    let tick = (SR / 10.0) as usize;
    let mut buf = vec![0.0f32; 2 * tick];
    let (mut level, mut swell) = (Vec::new(), Vec::new());
    for _ in 0..400 {
        let mid = s.steering();
        s.render(&mut buf);
        let end = s.steering();
        let rms = (buf.iter().map(|v| v * v).sum::<f32>() / buf.len() as f32).sqrt();
        level.push(20.0 * rms.log10());
        swell.push(0.5 * (mid.breath_swell + end.breath_swell));
    }
    // from 10 s on (the leveler settled), 30 s: three breaths at 6/min
    let (level, swell) = (&level[100..], &swell[100..]);
    let top: Vec<f32> = (0..level.len())
        .filter(|&i| swell[i] > 0.9)
        .map(|i| level[i])
        .collect();
    let bottom: Vec<f32> = (0..level.len())
        .filter(|&i| swell[i] < 0.1)
        .map(|i| level[i])
        .collect();
    let mean = |v: &[f32]| v.iter().sum::<f32>() / v.len() as f32;
    let r = correlation(level, swell);
    println!(
        "gust: {:.1} dB at the top of the breath, {:.1} dB at the bottom, r(level dB, swell) = {r:.3}",
        mean(&top),
        mean(&bottom)
    );
    assert!(top.len() >= 10 && bottom.len() >= 10);
    // the graph's gain goes from 0.1 to 1 (20 dB); the leveler (a slow loop, ±6 dB at
    // most in this preset) may take some of it, but at least 12 dB must remain
    assert!(mean(&top) - mean(&bottom) > 12.0);
    assert!(r > 0.9, "r = {r}");
}

fn correlation(a: &[f32], b: &[f32]) -> f32 {
    let n = a.len() as f32;
    let (ma, mb) = (a.iter().sum::<f32>() / n, b.iter().sum::<f32>() / n);
    let cov: f32 = a.iter().zip(b).map(|(x, y)| (x - ma) * (y - mb)).sum();
    let va: f32 = a.iter().map(|x| (x - ma) * (x - ma)).sum();
    let vb: f32 = b.iter().map(|y| (y - mb) * (y - mb)).sum();
    cov / (va * vb).sqrt()
}

#[test]
fn a_loud_custom_layer_is_mixed_under_the_ceiling() {
    // a square wave at +12 dBFS (the most a layer may send) at the largest gain, on
    // top of every built-in layer, added after the calibration so nothing expects it
    let steering = Steering::new();
    let loud = CustomLayer::new("loud", Box::new(square_hz(110.0) * 8.0), &steering, 1.5).unwrap();
    let control = loud.control();
    for name in ["relax", "focus", "sleep"] {
        let config = preset(name);
        let mut s = Soundscape::new(&config, SR, 3);
        assert_eq!(s.add_custom_layer(&loud).unwrap(), 0);
        assert!(s.add_custom_layer(&loud).is_err(), "names are unique");
        let x = render(&mut s, 20.0, |_, _| {});
        let ceiling = 10f32.powf(config.master.ceiling_dbfs / 20.0);
        let peak = x.iter().fold(0.0f32, |m, v| m.max(v.abs()));
        let m = control.take_meter();
        println!(
            "{name}: the layer peaks at {:.1}, the output at {peak:.4} (ceiling {ceiling:.4})",
            m.peak
        );
        assert!(m.peak >= 5.9, "the layer's own peak: 4 × 1.5");
        assert!(x.iter().all(|v| v.is_finite()));
        assert!(peak <= ceiling * 1.0001, "{name}: {peak} > {ceiling}");
        assert!(peak >= 0.9 * ceiling, "{name}: the layer is heard");
    }
}

#[test]
fn nan_from_a_graph_is_silenced_and_the_rest_plays_on() {
    // a graph that sends NaN (its noise above 0.98) or infinity (below −0.999) now and
    // then: in a third of the blocks, as measured
    let steering = Steering::new();
    let graph = noise()
        >> map(|f: &Frame<f32, U1>| {
            let x = f[0];
            if x > 0.98 {
                f32::NAN
            } else if x < -0.999 {
                f32::INFINITY
            } else {
                0.3 * x
            }
        });
    let bad = CustomLayer::new("bad", Box::new(graph), &steering, 1.0).unwrap();
    let control = bad.control();
    let config = preset("relax");
    let mut s = Soundscape::with_content(&config, &with_layers(&[&bad]), SR, 4);
    let x = render(&mut s, 10.0, |_, _| {});
    let meter = s.take_meter();
    let m = control.take_meter();
    println!(
        "bad: {} non-finite samples in {} blocks; output {:.1} dBFS, {} blocks silenced by the mix's guard",
        m.non_finite_samples,
        m.reset_blocks,
        meter.rms_dbfs(),
        meter.nan_blocks
    );
    assert!(m.non_finite_samples > 1000, "the graph did send NaN");
    assert!(x.iter().all(|v| v.is_finite()));
    // the guard on the whole mix never had to silence a block: the layer was cleaned first
    assert_eq!(meter.nan_blocks, 0);
    // and the music is still there: every second has sound
    for sec in x.chunks_exact(2 * SR as usize) {
        let rms = (sec.iter().map(|v| v * v).sum::<f32>() / sec.len() as f32).sqrt();
        assert!(rms > 1e-3, "a silent second: {rms}");
    }
}

#[test]
fn custom_layers_never_allocate_on_the_audio_thread() {
    let steering = Steering::new();
    let wind = CustomLayer::new("wind", wind(&steering), &steering, 0.8).unwrap();
    let wind_control = wind.control();
    let inputs = (sine_hz(220.0) | multipass::<U8>())
        >> map(|f: &Frame<f32, U9>| {
            let x = f[0] * f[1 + 2] * f[1 + 7];
            // NaN in every 64th block or so: the reset path runs too
            if f[1 + 1] > 0.999 {
                f32::NAN
            } else {
                x
            }
        });
    let tone = CustomLayer::new("tone", Box::new(inputs), &steering, 0.5).unwrap();
    let tone_control = tone.control();
    let config = Preset::find("focus").unwrap().sound;
    let mut s = Soundscape::with_content(&config, &with_layers(&[&wind, &tone]), SR, 5);
    // a replacement for the tone, prepared here, on the control side
    let other = Steering::new();
    let mut spare = Some(Box::new(
        CustomLayer::new("spare", Box::new(brown() * 0.3), &other, 1.0).unwrap(),
    ));
    spare.as_mut().unwrap().prepare(SR);
    let mut buf = vec![0.0f32; 2 * 64];
    let mut peak = 0.0f32;
    let blocks = (60.0 * SR / 64.0) as usize;
    for i in 0..blocks {
        if i % 100 == 0 {
            let x = ((i as f32 * 0.013).sin() + 1.0) / 2.0;
            assert_no_alloc(|| {
                s.set(Param::Brightness, x);
                s.set(Param::BreathRate, 3.0 + 17.0 * x);
                s.set(Param::Tempo, 40.0 + 80.0 * x);
                s.set(Param::Energy, 1.0 - x);
                wind_control.set_gain(1.5 * x);
                tone_control.set_enabled(i % 3000 < 1500);
            });
        }
        if i % 5000 == 2500 {
            // swap the tone out and back in on the audio thread; what comes back is
            // dropped out here
            let old = assert_no_alloc(|| s.swap_custom_layer(1, spare.take()));
            spare = old;
        }
        assert_no_alloc(|| s.render(&mut buf));
        peak = buf.iter().fold(peak, |m, v| m.max(v.abs()));
    }
    assert!(peak > 0.0 && peak <= 1.0);
    assert!(
        tone_control.take_meter().reset_blocks > 0,
        "the reset path ran"
    );

    // and through the engine's renderer, set from its handle
    let (mut handle, mut renderer) =
        new_engine_with_content(&config, &with_layers(&[&wind]), SR, 6);
    for i in 0..20_000usize {
        if i % 100 == 0 {
            handle.set(Param::Brightness, (i % 700) as f32 / 700.0);
            wind_control.set_enabled(i % 4000 < 2000);
        }
        assert_no_alloc(|| renderer.render(&mut buf));
    }
    assert!(wind_control.take_meter().frames > 0);
}

#[test]
fn a_session_plan_plays_its_custom_layers() {
    let preset = Preset::find("relax").unwrap();
    let steering = Steering::new();
    let layer = CustomLayer::new("wind", wind(&steering), &steering, 1.0).unwrap();
    let control = layer.control();
    let plan = |with: bool| {
        let plan = SessionPlan::fixed(&preset, Duration::from_secs(8), 1).with_content(None);
        if with {
            plan.with_custom_layer(layer.clone()).unwrap()
        } else {
            plan
        }
    };
    let render = |plan: SessionPlan| {
        let (offline, _end) = plan.offline(SR as u32).unwrap();
        let mut out = Vec::new();
        offline
            .render(
                |b| {
                    out.extend_from_slice(b);
                    Ok::<(), ()>(())
                },
                &AtomicBool::new(false),
                |_, _| {},
            )
            .unwrap();
        out
    };
    let without = render(plan(false));
    control.take_meter();
    let with = render(plan(true));
    let m = control.take_meter();
    assert_eq!(
        m.frames,
        8 * SR as u64,
        "the layer played the whole session"
    );
    assert!(m.rms > 1e-3);
    let diff = with
        .iter()
        .zip(&without)
        .map(|(a, b)| (a - b) * (a - b))
        .sum::<f32>();
    assert!(diff > 0.0, "the output changed");
    // more than the maximum, or a second of the same name, is refused by name
    let mut p = plan(true);
    let e = match p.with_custom_layer(layer.clone()) {
        Err(e) => e.to_string(),
        Ok(_) => panic!("a duplicate name was taken"),
    };
    assert_eq!(e, "custom layer wind: another custom layer has this name");
    p = plan(false);
    for i in 0..MAX_CUSTOM_LAYERS {
        let l = CustomLayer::new(&format!("l{i}"), Box::new(zero()), &steering, 1.0).unwrap();
        p = p.with_custom_layer(l).unwrap();
    }
    let extra = CustomLayer::new("extra", Box::new(zero()), &steering, 1.0).unwrap();
    assert!(p.with_custom_layer(extra).is_err());
}
