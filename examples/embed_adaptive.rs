//! A host that owns its audio callback runs an adaptive session: heart rate comes from
//! the host's own thread, the library decides, the host's callback pulls the sound.
//!
//! The "sensor" here replays a recording (a CSV or JSON Lines file with `hr` and
//! optionally `rr_ms` columns, or an Empatica E4 folder) from its own thread, pushing
//! each reading with its session time. The "callback" pulls 256 frames at a time and
//! writes them to a WAV file as fast as it can: it calls `SessionAudio::render_ready`,
//! which waits for each control tick, so the file equals what
//! `isochord render --preset relax --biometrics RECORDING` writes, bit for bit. A
//! callback driven by a sound card calls `SessionAudio::render` instead, which never
//! waits. This thread reads the session's updates and prints each decision.
//!
//! `cargo run --release --example embed_adaptive -- RECORDING [DURATION] [OUT.wav]`
//! (default duration: 10m, output: embed_adaptive.wav)

use isochord::engine::biometrics::sources::Source;
use isochord::engine::policy::SessionEvent;
use isochord::session::{
    AdaptiveOptions, Input, InputSpec, LiveSession, LiveSummary, Pacing, SessionPlan, Update,
};
use isochord::{parse_duration, Preset, SampleFormat, WavSink};
use std::error::Error;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// What the embedded session produced.
pub struct Embedded {
    /// Every sample the callback pulled (interleaved stereo).
    pub samples: Vec<f32>,
    /// The session's events, in the order they came: decisions with their reasons,
    /// escalations, notices.
    pub events: Vec<SessionEvent>,
    /// What the session left when it ended.
    pub summary: LiveSummary,
}

/// Runs the `relax` preset for `duration` at `sample_rate`, steered by `recording`;
/// `log` (if any) receives the session log. `on_event` hears each event as it arrives.
pub fn run(
    recording: &Path,
    duration: Duration,
    sample_rate: u32,
    seed: u64,
    log: Option<&Path>,
    mut on_event: impl FnMut(&SessionEvent),
) -> Result<Embedded, Box<dyn Error>> {
    let preset = Preset::find("relax")?;
    // the sensor: the library reads the recording; the sensor thread pushes it
    let spec: InputSpec = recording.display().to_string().parse()?;
    let mut sensor = spec.open_file()?;
    let input = Input::Pushed {
        info: sensor.info(),
        pacing: Pacing::Recorded,
    };
    let options = AdaptiveOptions {
        log: log.map(Path::to_path_buf),
        ..Default::default()
    };
    let plan = SessionPlan::adaptive(&preset, duration, seed, input, &options)?;
    let (mut session, mut audio) = LiveSession::with_host_audio(plan, sample_rate)?;
    let sender = session.take_sender().expect("a pushed input");
    let sensor_thread = std::thread::spawn(move || {
        while let Some(item) = sensor.next() {
            if !sender.push_item(item) {
                break; // the session has ended
            }
        }
        // dropping the sender ends the input
    });

    // the host's audio callback, on its own thread
    let callback = std::thread::spawn(move || {
        let mut buffer = [0.0f32; 2 * 256];
        let mut samples = Vec::new();
        while !audio.is_finished() {
            // --- what the callback does: one call, real-time safe ---
            let n = audio.render_ready(&mut buffer);
            // ---------------------------------------------------------
            if n == 0 {
                std::thread::yield_now(); // the next tick is being decided
            }
            samples.extend_from_slice(&buffer[..n]);
        }
        samples
    });

    // this thread: the session's updates
    let mut events = Vec::new();
    for update in session.updates().iter() {
        if let Update::Event(e) = update {
            on_event(&e);
            events.push(e);
        }
    }
    let samples = callback
        .join()
        .map_err(|_| "the callback thread panicked")?;
    sensor_thread
        .join()
        .map_err(|_| "the sensor thread panicked")?;
    let summary = session.finish()?;
    Ok(Embedded {
        samples,
        events,
        summary,
    })
}

#[allow(dead_code)] // the tests use `run` alone
fn main() -> Result<(), Box<dyn Error>> {
    let mut args = std::env::args().skip(1);
    let recording = PathBuf::from(args.next().ok_or(
        "usage: embed_adaptive RECORDING [DURATION] [OUT.wav] (e.g. assets/demo/stress-predict-S02 10m)",
    )?);
    let duration = match args.next() {
        Some(d) => parse_duration(&d)?,
        None => Duration::from_secs(600),
    };
    let out = PathBuf::from(args.next().unwrap_or_else(|| "embed_adaptive.wav".into()));
    let rate = 48_000;
    let done = run(&recording, duration, rate, 1, None, |e| println!("{e}"))?;
    let mut wav = WavSink::create(&out, rate, SampleFormat::F32)?;
    wav.write(&done.samples)?;
    let files = wav.finish()?;
    let s = &done.summary;
    println!(
        "{:.0} s rendered → {}; {} events; ticks late: {}",
        s.seconds,
        files[0].display(),
        done.events.len(),
        s.late_ticks
    );
    if let Some(o) = &s.ended.outcome {
        println!(
            "arousal {:?} at the start → {:?} at the end; sound allowance used {:.2} %",
            o.arousal_start,
            o.arousal_end,
            100.0 * o.allowance_used
        );
    }
    Ok(())
}
