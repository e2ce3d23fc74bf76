//! Musical figures of every preset, measured on rendered audio, and spectrogram and
//! chromagram images. `every_preset_develops` renders ten minutes of every preset and
//! holds each to the figures it must meet; the full table and the images are opt-in
//! (`--ignored`).
//!
//! ```text
//! cargo test --test music_figures -- --ignored --nocapture --test-threads 1
//! ISOCHORD_MINUTES=3 ISOCHORD_PRESETS=relax,piano cargo test --test music_figures figures -- --ignored --nocapture
//! ISOCHORD_IMAGE_PRESET=relax ISOCHORD_IMAGE_TAG=after cargo test --test music_figures images -- --ignored --nocapture
//! ```

mod common;
use common::music::*;
use common::*;
use isochord::{Content, Layer, Param, Preset, SoundscapeConfig};
use std::path::{Path, PathBuf};
use std::time::Instant;

/// Minutes to render (`ISOCHORD_MINUTES`, default 10).
fn minutes() -> usize {
    std::env::var("ISOCHORD_MINUTES")
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|&m| m >= 1)
        .unwrap_or(10)
}

/// Every preset file in `presets/`, by name, limited to `ISOCHORD_PRESETS` (a
/// comma-separated list of names) when set.
fn presets() -> Vec<Preset> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("presets");
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    paths.sort();
    let wanted: Option<Vec<String>> = std::env::var("ISOCHORD_PRESETS")
        .ok()
        .map(|v| v.split(',').map(|s| s.trim().to_string()).collect());
    paths
        .iter()
        .map(|p| Preset::load(p).unwrap_or_else(|e| panic!("{e}")))
        .filter(|p| wanted.as_ref().is_none_or(|w| w.contains(&p.name)))
        .collect()
}

/// The bundled content a preset asks for (what is missing is reported, not fatal).
fn content(sound: &SoundscapeConfig) -> Content {
    let loaded = isochord::ContentLibrary::bundled().load_for(sound, SR as u32);
    for n in &loaded.notices {
        println!("  content notice: {n:?}");
    }
    loaded.content
}

/// `sound` with its starting tempo, brightness, density, energy and reverb at `p`.
fn at_point(
    sound: &SoundscapeConfig,
    p: &isochord::engine::protocol::SoundPoint,
) -> SoundscapeConfig {
    let mut c = with_start(sound, Param::Tempo, p.tempo);
    c = with_start(&c, Param::Brightness, p.brightness);
    c = with_start(&c, Param::Density, p.density);
    c = with_start(&c, Param::Energy, p.energy);
    with_start(&c, Param::Reverb, p.reverb)
}

/// `sound` with its melody played by the synthesised bell instead of a sampled
/// instrument, for the note analysis: the melody chooses the same notes whatever plays
/// them, and the bell's clean onsets and harmonic partials are read reliably, while a
/// sampled piano's release noises and decay flicker add onsets that are not notes.
fn bell_melody(sound: &SoundscapeConfig) -> SoundscapeConfig {
    let mut c = sound.clone();
    c.melody.instrument.clear();
    c
}

/// `content` without a sampled melody instrument (see [`bell_melody`]).
fn bell_content(content: &Content) -> Content {
    let mut c = content.clone();
    c.melody = None;
    c
}

fn db(x: f32) -> f32 {
    20.0 * x.max(1e-12).log10()
}

fn rms(x: &[f32]) -> f32 {
    (x.iter().map(|v| (v * v) as f64).sum::<f64>() / x.len().max(1) as f64).sqrt() as f32
}

/// The figures of one preset, for the summary table.
struct Row {
    name: String,
    chords: usize,
    bass_roots: usize,
    changes: usize,
    root_share: f32,
    geometric: bool,
    rep_leap: f32,
    cadence: f32,
    seed_sim: f32,
    time_sim: f32,
    breath_re_pad: f32,
    swing: f32,
    locked: f32,
    side: f32,
    tilt: f32,
    low_mid: f32,
    centroid_ratio: f32,
    pulse_ratio: f32,
    onset_ratio: f32,
    note_ratio: f32,
    calm_minus_aroused_lufs: f64,
}

fn chord_names(spans: &[ChordSpan]) -> String {
    // total time per chord, longest first
    let mut per: Vec<(Chord, f32)> = Vec::new();
    for s in spans {
        if let Some(c) = s.chord {
            match per.iter_mut().find(|(d, _)| *d == c) {
                Some(e) => e.1 += s.dur_s,
                None => per.push((c, s.dur_s)),
            }
        }
    }
    per.sort_by(|a, b| b.1.total_cmp(&a.1));
    per.iter()
        .take(8)
        .map(|(c, d)| format!("{c} {d:.0}s"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn durations(spans: &[ChordSpan]) -> String {
    let d: Vec<f32> = spans
        .iter()
        .filter(|s| s.chord.is_some())
        .map(|s| s.dur_s)
        .collect();
    if d.is_empty() {
        return "none".into();
    }
    format!(
        "{} spans, min {:.0} s, median {:.0} s, max {:.0} s",
        d.len(),
        d.iter().cloned().fold(f32::MAX, f32::min),
        median(&d),
        d.iter().cloned().fold(0.0, f32::max)
    )
}

fn measure(preset: &Preset, minutes: usize) -> Row {
    let t0 = Instant::now();
    let sound = &preset.sound;
    let content = content(sound);
    let secs = minutes as f32 * 60.0;
    // seed 1's key (a preset may move its key with the seed)
    let tonic = sound.for_seed(1).key.pitch_class();
    let scale = sound.scale.steps();
    println!(
        "\n== {} ({} {}, {} BPM, breath {}/min), {minutes} min ==",
        preset.name,
        PITCH_NAMES[tonic as usize],
        sound.scale.name(),
        sound.start.tempo,
        sound.start.breath_rate
    );
    let x1 = render_content(sound, &content, secs, 1);
    let x2 = render_content(sound, &content, secs, 2);
    let pad_x = render_stem(sound, &content, &[Layer::Pad], secs, 1);
    let mel_x = render_stem(
        &bell_melody(sound),
        &bell_content(&content),
        &[Layer::Melody],
        secs,
        1,
    );
    let breath_x = render_stem(sound, &content, &[Layer::Breath], secs, 1);
    let rendered = t0.elapsed().as_secs_f32();
    let t1 = Instant::now();
    let m1 = mono(&x1);
    let m2 = mono(&x2);
    let pad = mono(&pad_x);
    let mel = mono(&mel_x);

    // harmony
    let frames = chords(&m1, 1.0);
    let spans = merge_chords(&frames, 1.0, 4.0);
    let pad_spans = merge_chords(&chords(&pad, 1.0), 1.0, 4.0);
    let labels = distinct_chords(&spans).len();
    let harm = harmonies(&chroma(&m1, 1.0), &spans, 1.0, 0.9);
    let distinct = harm.len();
    let pad_harm = harmonies(&chroma(&pad, 1.0), &pad_spans, 1.0, 0.9);
    println!(
        "harmony (mix, 1 s frames, spans ≥ 4 s): {distinct} distinct harmonies (spans' chroma apart by cosine < 0.9): {}; pad alone {} ({}); {labels} distinct template labels: {}",
        harm.iter()
            .map(|h| format!("{} {:.0}s", h.chord.map(|c| c.name()).unwrap_or_default(), h.dur_s))
            .collect::<Vec<_>>()
            .join(", "),
        pad_harm.len(),
        pad_harm
            .iter()
            .map(|h| format!("{} {:.0}s", h.chord.map(|c| c.name()).unwrap_or_default(), h.dur_s))
            .collect::<Vec<_>>()
            .join(", "),
        chord_names(&spans)
    );
    println!("  chord spans (mix): {}", durations(&spans));
    println!(
        "  pad alone: {} distinct: {}; {}",
        distinct_chords(&pad_spans).len(),
        chord_names(&pad_spans),
        durations(&pad_spans)
    );
    let c10 = chroma(&m1, 10.0);
    let b10 = bass_roots(&m1, 10.0);
    let changes = count_changes(&c10, 0.9);
    let cos_min = c10
        .windows(2)
        .map(|w| cosine(&w[0], &w[1]))
        .fold(1.0f32, f32::min);
    let mut bass_count = [0usize; 12];
    for b in &b10 {
        if let Some(pc) = b.pc {
            bass_count[pc as usize] += 1;
        }
    }
    let mut bass_list: Vec<(usize, usize)> = bass_count
        .iter()
        .enumerate()
        .filter(|(_, n)| **n > 0)
        .map(|(pc, n)| (pc, *n))
        .collect();
    bass_list.sort_by_key(|b| std::cmp::Reverse(b.1));
    let bass_roots_n = bass_list.iter().filter(|(_, n)| *n >= 2).count();
    let chords10: Vec<Option<Chord>> = c10
        .iter()
        .zip(&b10)
        .map(|(c, b)| chord_of(c, b.pc))
        .collect();
    let root_share = root_in_bass_share(&chords10, &b10);
    let tonic_share = b10.iter().filter(|b| b.pc == Some(tonic)).count() as f32 / b10.len() as f32;
    println!(
        "  10 s windows: {} windows, {changes} changes (cosine < 0.9; lowest {cos_min:.3}); bass roots {} ({} in ≥ 2 windows); chord root strongest in the bass in {:.0} % of windows, the key's tonic in {:.0} %",
        c10.len(),
        bass_list
            .iter()
            .map(|(pc, n)| format!("{}×{n}", PITCH_NAMES[*pc]))
            .collect::<Vec<_>>()
            .join(" "),
        bass_roots_n,
        100.0 * root_share,
        100.0 * tonic_share
    );

    // melody
    let notes = note_events(&mel);
    let times: Vec<f32> = notes.iter().map(|n| n.t).collect();
    let g = gaps(&times);
    let gs = gap_stats(&g);
    let grid = 30.0 / sound.start.tempo;
    let geo = geometric_fit(&g, grid);
    let midis: Vec<i32> = notes.iter().map(|n| n.midi).collect();
    let iv = interval_stats(&midis, tonic, scale);
    let cad = cadences(&notes, &pad_spans);
    let in_scale = midis
        .iter()
        .filter(|m| scale.contains(&((**m - tonic as i32).rem_euclid(12))))
        .count() as f32
        / midis.len().max(1) as f32;
    if !sound.melody.instrument.is_empty() {
        println!(
            "melody notes read from the melody played by the synthesised bell (the same notes)"
        );
    }
    println!(
        "melody: {} notes ({:.1}/min; {:.0} % in the scale), gaps median {:.2} s, mean {:.2} s, CV {:.2}; geometric fit on the {:.3} s eighth grid: p {:.3}, KS {:.3} (5 % critical {:.3}) → {}",
        notes.len(),
        notes.len() as f32 / (secs / 60.0),
        100.0 * in_scale,
        gs.median,
        gs.mean,
        gs.cv,
        grid,
        geo.p,
        geo.ks,
        geo.critical,
        if geo.looks_geometric() { "geometric" } else { "not geometric" }
    );
    println!(
        "  intervals: {} (repeated {}, steps {}, skips {}, leaps ≥ 3 {}); repeated + leaps {:.0} %",
        iv.n,
        iv.repeated,
        iv.steps,
        iv.skips,
        iv.leaps,
        100.0 * iv.repeated_or_leap_share()
    );
    println!(
        "  phrase ends (next gap ≥ 2× median): {}, on a chord tone of the pad's chord {:.0} % (all notes {:.0} %)",
        cad.phrase_ends,
        100.0 * cad.share(),
        100.0 * cad.all_notes_share
    );

    // variety
    let last = minutes - 1;
    let (a, b) = (1.min(last), if minutes >= 10 { 8 } else { last });
    let time_sim = minute_similarity(&m1, a, &m1, b);
    let seed_sim = minute_similarity(&m1, a, &m2, a);
    let render_sim = render_similarity(&m1, &m2, 10.0);
    println!(
        "variety: minute {} vs minute {} of seed 1: {time_sim:.4}; minute {} of seed 1 vs seed 2: {seed_sim:.4}; seed 1 vs seed 2, aligned 10 s windows: {render_sim:.4}",
        a + 1,
        b + 1,
        a + 1
    );

    // mix
    let skip = 10.0;
    let ls = loudness(&x1);
    let l_pad = loudness(&pad_x);
    let l_breath = loudness(&breath_x);
    let breath_re_pad = (l_breath.integrated - l_pad.integrated) as f32;
    let rms_re = db(rms(&mono(&breath_x))) - db(rms(&pad));
    let period = 60.0 / sound.start.breath_rate;
    let skip_breaths = (skip / period).ceil() * period;
    let swing = breath_swing(&ls.momentary, period, skip_breaths);
    let locked = breath_locked_swing(&ls.momentary, period, skip_breaths);
    let share = breath_fluctuation_share(&ls.momentary, period, skip_breaths);
    let side = low_side_db(&x1, 150.0);
    let bal = spectral_balance(skip_slice(&m1, skip));
    println!(
        "mix: {:.1} LUFS integrated, LRA {:.1} LU; breath layer {breath_re_pad:+.1} LU re the pad ({rms_re:+.1} dB RMS); per-breath swing {swing:.1} LU (median over {}-s breaths), breath-locked {locked:.1} LU; breath rate holds {:.0} % of loudness fluctuation",
        ls.integrated,
        ls.range,
        period,
        100.0 * share
    );
    println!(
        "  low end: side {side:.1} dB re mid below 150 Hz; tilt {:.1} dB/oct; vs pink by octave 63 Hz–8 kHz: [{}] dB; 200–500 Hz {:+.1} dB re pink",
        bal.slope_db_per_oct,
        bal.pink_deviation_db
            .iter()
            .map(|d| format!("{d:+.1}"))
            .collect::<Vec<_>>()
            .join(" "),
        bal.low_mid_excess_db
    );
    let analysed = t1.elapsed().as_secs_f32();

    // steering: the protocol's calm and aroused ends as starting values
    let t2 = Instant::now();
    let (mut centroid_ratio, mut onset_ratio, mut note_ratio, mut lufs_diff) =
        (f32::NAN, f32::NAN, f32::NAN, f64::NAN);
    let mut pulse_ratio = f32::NAN;
    if let Some(proto) = &preset.protocol {
        let mut figures = Vec::new();
        for (label, point) in [("calm", &proto.calm), ("aroused", &proto.aroused)] {
            let c = at_point(sound, point);
            let x = render_content(&c, &content, secs, 1);
            let m = mono(&x);
            let mel = mono(&render_stem(
                &bell_melody(&c),
                &bell_content(&content),
                &[Layer::Melody],
                secs,
                1,
            ));
            let body = skip_slice(&m, skip);
            // the pulse layer alone: its onset rate is the tempo as played
            let pulse_stem = mono(&render_stem(&c, &content, &[Layer::Pulse], secs, 1));
            let pulse_rate = onsets_per_minute(skip_slice(&pulse_stem, skip));
            let f = (
                spectral_centroid(body),
                onsets_per_minute(body),
                note_events(&mel).len() as f32 / (secs / 60.0),
                loudness(&x).integrated,
                point.tempo,
                pulse_rate,
            );
            println!(
                "steer {label}: tempo {:.0} BPM → centroid {:.0} Hz, pulse layer onsets {:.1}/min, whole-mix onsets {:.1}/min (energy-rise count {:.1}/min), melody notes {:.1}/min, {:.1} LUFS",
                f.4,
                f.0,
                pulse_rate,
                f.1,
                onset_rate(body),
                f.2,
                f.3
            );
            figures.push(f);
        }
        let (c, a) = (figures[0], figures[1]);
        centroid_ratio = a.0 / c.0;
        onset_ratio = a.1 / c.1;
        note_ratio = a.2 / c.2;
        lufs_diff = c.3 - a.3;
        println!(
            "  aroused / calm: centroid ×{centroid_ratio:.2}, pulse-layer onset rate ×{:.2}, onset rate ×{onset_ratio:.2}, note rate ×{note_ratio:.2}, set tempo ×{:.2}; calm minus aroused loudness {lufs_diff:+.1} LU",
            a.5 / c.5,
            a.4 / c.4
        );
        pulse_ratio = a.5 / c.5;
    }
    println!(
        "(rendering {rendered:.0} s, analysis {analysed:.1} s, steering {:.0} s)",
        t2.elapsed().as_secs_f32()
    );
    Row {
        name: preset.name.clone(),
        chords: distinct,
        bass_roots: bass_roots_n,
        changes,
        root_share,
        geometric: geo.looks_geometric(),
        rep_leap: iv.repeated_or_leap_share(),
        cadence: cad.share(),
        seed_sim,
        time_sim,
        breath_re_pad,
        swing,
        locked,
        side,
        tilt: bal.slope_db_per_oct,
        low_mid: bal.low_mid_excess_db,
        centroid_ratio,
        pulse_ratio,
        onset_ratio,
        note_ratio,
        calm_minus_aroused_lufs: lufs_diff,
    }
}

fn skip_slice(x: &[f32], seconds: f32) -> &[f32] {
    skip(x, seconds)
}

/// Ten minutes of every preset, two at a time: harmony that moves (at least four
/// distinct harmonies, two bass roots and six changes between 10 s windows; the chord's
/// root the strongest bass note in 70 % of windows, but for a drone, whose bass holds the
/// tonic), a melody in phrases (gaps not geometric, repeated notes and leaps at least
/// 15 % of intervals), a breath guide at least 6 dB under the pad, a mono low end (side
/// at least 10 dB under mid below 150 Hz), and steering a listener can hear (the
/// aroused end's spectral centroid at least 25 % above the calm end's, and no louder a
/// calm end).
#[test]
fn every_preset_develops() {
    let presets = presets();
    let half = presets.len().div_ceil(2).max(1);
    let rows: Vec<Row> = std::thread::scope(|s| {
        let workers: Vec<_> = presets
            .chunks(half)
            .map(|chunk| s.spawn(move || chunk.iter().map(|p| measure(p, 10)).collect::<Vec<_>>()))
            .collect();
        workers
            .into_iter()
            .flat_map(|w| w.join().unwrap())
            .collect()
    });
    print_summary(&rows, 10);
    for (p, r) in presets.iter().zip(&rows) {
        let n = &r.name;
        assert!(r.chords >= 4, "{n}: {} harmonies", r.chords);
        assert!(r.bass_roots >= 2, "{n}: {} bass roots", r.bass_roots);
        assert!(r.changes >= 6, "{n}: {} changes", r.changes);
        if !p.sound.harmony.style.pedal() {
            assert!(
                r.root_share >= 0.7,
                "{n}: root in the bass {}",
                r.root_share
            );
        }
        assert!(!r.geometric, "{n}: the melody's gaps look geometric");
        assert!(r.rep_leap >= 0.15, "{n}: repeated + leaps {}", r.rep_leap);
        assert!(
            r.breath_re_pad <= -6.0,
            "{n}: breath {} LU re the pad",
            r.breath_re_pad
        );
        assert!(r.side <= -10.0, "{n}: low-end side {} dB", r.side);
        assert!(
            r.centroid_ratio >= 1.25,
            "{n}: centroid ×{}",
            r.centroid_ratio
        );
        assert!(
            r.calm_minus_aroused_lufs <= 0.0,
            "{n}: the calm end is {} LU louder",
            r.calm_minus_aroused_lufs
        );
    }
}

#[test]
#[ignore = "renders ten minutes per preset; run with --ignored --nocapture"]
fn figures() {
    let minutes = minutes();
    let rows: Vec<Row> = presets().iter().map(|p| measure(p, minutes)).collect();
    print_summary(&rows, minutes);
}

/// Prints one row of figures per preset.
fn print_summary(rows: &[Row], minutes: usize) {
    println!("\nSummary ({minutes} min per preset, seed 1; see above for the methods):");
    println!(
        "{:<8} {:>6} {:>5} {:>7} {:>6} {:>9} {:>7} {:>7} {:>8} {:>8} {:>7} {:>6} {:>6} {:>6} {:>6} {:>6} {:>7} {:>7} {:>7} {:>7} {:>7}",
        "preset", "harmns", "bass", "changes", "root%", "gaps", "rep+lp%", "cadnc%", "seedsim", "timesim",
        "brth-pad", "swing", "locked", "side", "tilt", "lowmid", "centr×", "pulse×", "onset×", "notes×", "calm-ar"
    );
    for r in rows {
        println!(
            "{:<8} {:>6} {:>5} {:>7} {:>6.0} {:>9} {:>7.0} {:>7.0} {:>8.4} {:>8.4} {:>+7.1} {:>6.1} {:>6.1} {:>6.1} {:>6.1} {:>+6.1} {:>7.2} {:>7.2} {:>7.2} {:>7.2} {:>+7.1}",
            r.name,
            r.chords,
            r.bass_roots,
            r.changes,
            100.0 * r.root_share,
            if r.geometric { "geometric" } else { "phrased" },
            100.0 * r.rep_leap,
            100.0 * r.cadence,
            r.seed_sim,
            r.time_sim,
            r.breath_re_pad,
            r.swing,
            r.locked,
            r.side,
            r.tilt,
            r.low_mid,
            r.centroid_ratio,
            r.pulse_ratio,
            r.onset_ratio,
            r.note_ratio,
            r.calm_minus_aroused_lufs
        );
    }
}

#[test]
#[ignore = "renders minutes of audio and writes images; run with --ignored"]
fn images() {
    let name = std::env::var("ISOCHORD_IMAGE_PRESET").unwrap_or_else(|_| "relax".into());
    let tag = std::env::var("ISOCHORD_IMAGE_TAG").unwrap_or_else(|_| "latest".into());
    let preset = Preset::find(&name).unwrap_or_else(|e| panic!("{e}"));
    let content = content(&preset.sound);
    let secs = minutes() as f32 * 60.0;
    let m = mono(&render_content(&preset.sound, &content, secs, 1));
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/images");
    let spec = dir.join(format!("{name}-{tag}-spectrogram.png"));
    let chro = dir.join(format!("{name}-{tag}-chromagram.png"));
    write_spectrogram_png(&spec, &m, 800, 300);
    write_chromagram_png(&chro, &m, 800, 300);
    println!("wrote {} and {}", spec.display(), chro.display());
}
