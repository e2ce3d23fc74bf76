//! The real-time engine: the audio side never allocates or frees, commands arrive within
//! a block, full rings coalesce to the newest value.

use assert_no_alloc::{assert_no_alloc, AllocDisabler};
use isochord::{new_engine, Command, Key, Layer, Param, Preset, Scale};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

#[global_allocator]
static ALLOCATOR: AllocDisabler = AllocDisabler;

const SR: f32 = 48_000.0;

/// The audio thread: at least 20 000 callbacks of 64 frames (27 s of audio), and on until
/// the control side has exercised what it set out to (`enough`), each callback under
/// assert_no_alloc, which aborts the process on any allocation or free inside it. Returns
/// the flag it raises when done and its handle (the renderer and the output's peak).
fn audio_thread(
    mut renderer: isochord::Renderer,
    enough: Arc<AtomicBool>,
) -> (
    Arc<AtomicBool>,
    std::thread::JoinHandle<(isochord::Renderer, f32)>,
) {
    let done = Arc::new(AtomicBool::new(false));
    let audio_done = done.clone();
    let audio = std::thread::spawn(move || {
        let mut buf = vec![0.0f32; 2 * 64];
        let mut peak = 0.0f32;
        // at most 20 minutes of audio, however slowly the control side runs
        for i in 0..1_000_000 {
            if i >= 20_000 && enough.load(Ordering::Relaxed) {
                break;
            }
            assert_no_alloc(|| renderer.render(&mut buf));
            peak = buf.iter().fold(peak, |m, v| m.max(v.abs()));
            if i % 50 == 0 {
                std::thread::yield_now();
            }
        }
        audio_done.store(true, Ordering::Relaxed);
        (renderer, peak)
    });
    (done, audio)
}

#[test]
fn audio_thread_never_allocates_while_everything_changes() {
    let presets = Preset::builtins();
    let (mut handle, renderer) = new_engine(&presets[1].sound, SR, 1);
    let enough = Arc::new(AtomicBool::new(false));
    let (done, audio) = audio_thread(renderer, enough.clone());
    // the control thread: every parameter, layer toggles, keys, preset switches
    let mut round = 0u32;
    let mut switches = 0;
    while !done.load(Ordering::Relaxed) {
        enough.store(switches >= 4 && round >= 50, Ordering::Relaxed);
        for p in Param::ALL {
            let (lo, hi) = p.range();
            let x = ((round as f32 * 0.37 + p.index() as f32 * 0.11).sin() + 1.0) / 2.0;
            handle.set(p, lo + (hi - lo) * x);
        }
        handle.set(
            Param::Enabled(Layer::ALL[(round % 5) as usize]),
            (round % 2) as f32,
        );
        handle.set(Param::Tempo, f32::NAN);
        if round.is_multiple_of(7) {
            handle.set_key(
                Key::new((round % 12) as u8),
                Scale::ALL[(round % 7) as usize],
            );
        }
        if round.is_multiple_of(5) && handle.switch_to(&presets[switches % 4].sound).is_ok() {
            switches += 1;
        }
        handle.poll();
        round += 1;
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
    let (_renderer, peak) = audio.join().expect("audio thread ran clean");
    let t = handle
        .poll()
        .or(handle.latest().copied())
        .expect("telemetry arrived");
    println!(
        "{round} control rounds, {switches} preset switches, {} commands applied, peak {peak}",
        t.commands_applied
    );
    assert!(switches >= 4, "preset switches exercised: {switches}");
    assert!(t.commands_applied > 1000);
    assert!(peak > 0.0 && peak <= 1.0);
}

#[test]
fn a_command_is_heard_within_one_block() {
    // Two engines, identical but for one command sent before block 200. The command is
    // applied at the start of the next render and its smoother moves from that block on;
    // the first block's change can be below float resolution after the mix, so the
    // first differing sample must lie within the two blocks that follow (2.7 ms).
    let relax = Preset::find("relax").unwrap().sound;
    let (_h_ref, mut reference) = new_engine(&relax, SR, 3);
    let (mut handle, mut steered) = new_engine(&relax, SR, 3);
    let block = 64;
    let mut a = vec![0.0f32; 2 * block];
    let mut b = vec![0.0f32; 2 * block];
    let mut first_diff = None;
    for i in 0..(SR as usize * 2 / block) {
        if i == 200 {
            handle.set(Param::Gain(Layer::Pad), 0.0);
        }
        reference.render(&mut a);
        steered.render(&mut b);
        if first_diff.is_none() {
            if let Some(k) = a.iter().zip(&b).position(|(x, y)| x != y) {
                first_diff = Some(i * block + k / 2);
            }
        }
    }
    let at = first_diff.expect("the command changed the output");
    println!(
        "command sent before frame {}, output differs from frame {at}",
        200 * block
    );
    assert!(at >= 200 * block && at < 202 * block, "{at}");
}

#[test]
fn a_change_completes_within_its_smoothing_time() {
    // pad gain 0.8 → 0: at 0.5/s the ramp takes 1.6 s, and the corner rounding adds
    // about 3 time constants (0.45 s); the telemetry (every 50 ms) must show it at 0 by
    // then, and still on its way at half that time.
    let relax = Preset::find("relax").unwrap().sound;
    let (mut handle, mut r) = new_engine(&relax, SR, 3);
    let mut buf = vec![0.0f32; 2 * 480];
    for _ in 0..100 {
        r.render(&mut buf);
    }
    handle.set(Param::Gain(Layer::Pad), 0.0);
    let mut value_at = Vec::new();
    for i in 0..300 {
        r.render(&mut buf);
        if let Some(t) = handle.poll() {
            value_at.push((i as f32 * 0.01, t.values[Param::Gain(Layer::Pad).index()]));
        }
    }
    let at = |s: f32| value_at.iter().find(|(t, _)| *t >= s).unwrap().1;
    println!(
        "pad gain at 0.5 s {:.3}, 1.0 s {:.3}, 2.1 s {:.4}",
        at(0.5),
        at(1.0),
        at(2.1)
    );
    assert!(at(1.0) > 0.1, "no faster than the bounded slew");
    assert!(at(2.1) < 0.002, "arrived within ramp + smoothing");
}

#[test]
fn a_full_ring_keeps_the_newest_value() {
    let relax = Preset::find("relax").unwrap().sound;
    let (mut handle, mut r) = new_engine(&relax, SR, 3);
    // nobody renders: fill the command ring to the brim, then keep setting tempo
    for i in 0..isochord::engine::realtime::COMMAND_SLOTS {
        handle.send(Command::Set(Param::Brightness, (i % 2) as f32));
    }
    for bpm in [50.0, 60.0, 70.0, 80.0, 90.0] {
        handle.set(Param::Tempo, bpm);
    }
    assert!(
        handle.flush() > 0,
        "tempo is pending, not lost and not blocking"
    );
    assert!(handle.coalesced() >= 4);
    let mut buf = vec![0.0f32; 128];
    r.render(&mut buf); // drains the ring
    assert_eq!(handle.flush(), 0, "the pending value went through");
    let mut t = None;
    for _ in 0..(SR as usize * 30 / 64) {
        r.render(&mut buf);
        t = handle.poll().or(t);
    }
    let t = t.unwrap();
    assert!(
        (t.values[Param::Tempo.index()] - 90.0).abs() < 0.01,
        "{:?}",
        t.values
    );
}

#[test]
fn sample_voices_and_loop_rate_changes_never_allocate() {
    // The piano preset with its sampled piano (pulse and melody) and every loop kind:
    // the bundled arpeggio (slices), the bundled texture (free), an untuned loop written
    // here (variable-ratio resampler) and the same file streamed from disk (a ring the
    // feeder thread fills), all four allowed to play at once and to switch every bar. The control thread sweeps tempo over its whole range (so the
    // resampler's ratio and the slice timing change all the time), density (how many
    // loops), brightness and energy (which loops, crossfades), toggles layers and
    // switches between palettes of the preset, while every callback runs under
    // assert_no_alloc.
    let dir = tempfile::tempdir().unwrap();
    let sr = 44_100u32;
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: sr,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut w = hound::WavWriter::create(dir.path().join("tick.wav"), spec).unwrap();
    for i in 0..2 * sr as usize {
        let t = (i % (sr as usize / 2)) as f32 / sr as f32;
        let v = (-t / 0.02).exp() * (std::f32::consts::TAU * 3000.0 * t).sin();
        w.write_sample((v * 12_000.0) as i16).unwrap();
    }
    w.finalize().unwrap();
    let manifest = dir.path().join("manifest.toml");
    std::fs::write(
        &manifest,
        "[[loop]]\nid = \"tick\"\nfile = \"tick.wav\"\ntempo = 120.0\nbeats = 4\ntags = [\"piano\"]\nenergy = 0.9\n\n\
         [[loop]]\nid = \"tick-stream\"\nfile = \"tick.wav\"\nstream = true\ntags = [\"piano\"]\nenergy = 0.6\n",
    )
    .unwrap();
    let mut library = isochord::ContentLibrary::bundled();
    library.add_manifest(&manifest).unwrap();
    let mut piano = Preset::find("piano").unwrap().sound;
    piano.loops.layers = 4;
    piano.loops.switch_bars = 1;
    piano.loops.crossfade_s = 0.5;
    let loaded = library.load_for(&piano, SR as u32);
    assert!(loaded.notices.is_empty(), "{:?}", loaded.notices);
    assert_eq!(loaded.content.loops.len(), 4);
    assert!(loaded.content.loops.iter().any(|l| l.stream.is_some()));
    let mut glass = piano.clone();
    glass.key = Key::new(9);
    let (mut handle, renderer) = isochord::new_engine_with_content(&piano, &loaded.content, SR, 1);
    let enough = Arc::new(AtomicBool::new(false));
    let (done, audio) = audio_thread(renderer, enough.clone());
    let mut round = 0u32;
    let mut switches = 0;
    while !done.load(Ordering::Relaxed) {
        enough.store(switches >= 2 && round >= 50, Ordering::Relaxed);
        let x = |k: f32| ((round as f32 * k).sin() + 1.0) / 2.0;
        handle.set(Param::Tempo, 40.0 + 80.0 * x(0.9));
        handle.set(Param::Density, x(0.23));
        handle.set(Param::Brightness, x(0.31));
        handle.set(Param::Energy, x(0.17));
        let layer = [Layer::Pulse, Layer::Melody, Layer::Loops][(round % 3) as usize];
        handle.set(
            Param::Enabled(layer),
            if round % 40 < 30 { 1.0 } else { 0.0 },
        );
        if round.is_multiple_of(5) {
            // a key change: tuned loops that no longer fit fade out, others come in
            handle.set_key(
                Key::new((round % 12) as u8),
                Scale::ALL[(round % 7) as usize],
            );
        }
        if round.is_multiple_of(9) {
            let next = if switches % 2 == 0 { &glass } else { &piano };
            if handle.switch_to(next).is_ok() {
                switches += 1;
            }
        }
        handle.poll();
        round += 1;
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
    let (_renderer, peak) = audio.join().expect("audio thread ran clean");
    println!("{round} control rounds, {switches} switches, peak {peak}");
    assert!(switches >= 2, "switches exercised: {switches}");
    assert!(peak > 0.0 && peak <= 1.0);
}

#[test]
fn chords_phrases_and_sections_never_allocate() {
    // every built-in preset, its harmony and form hurried (a chord a bar, a section every
    // two or three bars) at 120 BPM, density and key moving: three minutes each, every
    // block under assert_no_alloc
    for preset in Preset::builtins() {
        let mut cfg = preset.sound.clone();
        cfg.harmony.bars_calm = 1.0;
        cfg.harmony.bars_aroused = 1.0;
        cfg.form.section_bars_min = 2;
        cfg.form.section_bars_max = 3;
        cfg.start.tempo = 120.0;
        let mut s = isochord::Soundscape::new(&cfg, SR, 3);
        let mut buf = vec![0.0f32; 2 * 64];
        let (mut chords, mut sections, mut voicings) = (0, 0, 0);
        let mut last = *s.score();
        let mut last_notes = s.pad_notes();
        let blocks = (180.0 * SR / 64.0) as usize;
        for i in 0..blocks {
            if i % 750 == 0 {
                let x = i as f32 / blocks as f32;
                s.set(Param::Density, (x * 7.0).sin().abs());
                if i % 7500 == 0 {
                    s.set_key(Key::new((i / 7500) as u8 * 5), Scale::ALL[(i / 7500) % 7]);
                }
            }
            assert_no_alloc(|| s.render(&mut buf));
            let now = *s.score();
            chords += (now.chord != last.chord) as u32;
            sections += (now.arrangement.number != last.arrangement.number) as u32;
            voicings += (s.pad_notes() != last_notes) as u32;
            last = now;
            last_notes = s.pad_notes();
        }
        println!(
            "{}: {chords} chord changes, {sections} sections, {voicings} pad moves",
            preset.name
        );
        assert!(
            chords >= 40 && sections >= 20 && voicings >= 40,
            "{}",
            preset.name
        );
    }
}
