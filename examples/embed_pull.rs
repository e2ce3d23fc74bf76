//! A host that owns its audio callback pulls a session from the engine: no cpal involved.
//!
//! The session plays the `focus` preset along the keyframes of
//! `assets/demo/relax-arc.csv` (an automation file). Here the "callback" is a loop that
//! asks for 256 frames at a time, as an audio API would, and writes them to
//! `embed_pull.wav`; it runs faster than real time, so it calls
//! `SessionAudio::render_ready`, which waits for the session's control ticks. In a real
//! app the body of the loop is the body of your audio callback, and it calls
//! `SessionAudio::render`, which never waits.
//!
//! `cargo run --release --example embed_pull [SECONDS]`

use isochord::session::{LiveSession, SessionPlan, Update};
use isochord::{Automation, Preset, SampleFormat, WavSink};
use std::path::Path;
use std::time::Duration;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let seconds: u64 = std::env::args()
        .nth(1)
        .map(|s| s.parse())
        .transpose()?
        .unwrap_or(20);
    let rate = 48_000;
    let preset = Preset::find("focus")?;
    let arc = Automation::load(Path::new("assets/demo/relax-arc.csv"))?;
    let plan = SessionPlan::automated(&preset, Duration::from_secs(seconds), 1, arc);
    // control side: build once (this allocates and calibrates)
    let (session, mut audio) = LiveSession::with_host_audio(plan, rate)?;
    let mut wav = WavSink::create(Path::new("embed_pull.wav"), rate, SampleFormat::F32)?;

    let mut buffer = vec![0.0f32; 2 * 256];
    while !audio.is_finished() {
        // --- what your audio callback does: one call, real-time safe ---
        let n = audio.render_ready(&mut buffer);
        // ---------------------------------------------------------------
        wav.write(&buffer[..n])?;
        // your control code, anywhere else: here, a line every 5 s
        while let Ok(update) = session.updates().try_recv() {
            if let Update::Status(s) = update {
                if s.new_second && (s.at_s as u64).is_multiple_of(5) {
                    println!(
                        "{:5.1} s  level {}",
                        s.at_s,
                        s.second
                            .rms_dbfs()
                            .map_or("--".into(), |db| format!("{db:.1} dBFS"))
                    );
                }
            }
        }
        if n == 0 {
            std::thread::yield_now(); // the next control tick is being decided
        }
    }
    let summary = session.finish()?;
    let files = wav.finish()?;
    println!(
        "wrote {} ({:.1} s, level {} dBFS)",
        files[0].display(),
        summary.seconds,
        summary.level.rms_dbfs().unwrap_or(f64::NEG_INFINITY)
    );
    Ok(())
}
