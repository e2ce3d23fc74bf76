//! The engine opens the sound card itself and runs a whole adaptive session.
//!
//! `LiveSession::on_device` picks the default output device, builds the engine at the
//! device's native sample rate and starts the stream (the audio thread is cpal's) and
//! the session's control thread: it ticks the session at 10 Hz, fades in and out, meters
//! what is played for the WHO-ITU sound allowance, and reopens the device if it is lost.
//! Ctrl-C fades out and stops. This thread only prints what the session says.
//!
//! The body steering it is the simulated listener (`sim`), or any input the command
//! line takes: a recording (`e4:DIR`, `file:PATH`, replayed at its pace) or
//! `osc://127.0.0.1:12345`.
//!
//! `cargo run --release --example embed_cpal [SECONDS] [INPUT]` (default 60, sim)

use isochord::session::{AdaptiveOptions, DeviceOptions, Input, LiveSession, SessionPlan, Update};
use isochord::Preset;
use std::time::Duration;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let seconds: u64 = args.next().map(|s| s.parse()).transpose()?.unwrap_or(60);
    let input = Input::parse(&args.next().unwrap_or_else(|| "sim".into()))?;
    let preset = Preset::find("relax")?;
    let plan = SessionPlan::adaptive(
        &preset,
        Duration::from_secs(seconds),
        1,
        input,
        &AdaptiveOptions::default(),
    )?;
    let session = LiveSession::on_device(plan, &DeviceOptions::default())?;
    session.stop_on_ctrl_c()?;
    if let Some(s) = session.started() {
        println!(
            "playing {} on {} at {} Hz ({}); Ctrl-C fades out and stops",
            preset.name, s.device_name, s.sample_rate, s.sample_format
        );
    }
    for update in session.updates().iter() {
        match update {
            Update::Event(e) => println!("{e}"),
            Update::Status(s) if s.new_second && (s.at_s as u64).is_multiple_of(5) => println!(
                "{:5.1} s  level {}  {}",
                s.at_s,
                s.second
                    .rms_dbfs()
                    .map_or("--".into(), |db| format!("{db:.1} dBFS")),
                s.text.unwrap_or_default()
            ),
            Update::Device { event, .. } => eprintln!("device: {}", event.name()),
            _ => {}
        }
    }
    let summary = session.finish()?;
    println!(
        "done: {:.1} s played, {} underruns, sound allowance used {:.3} %",
        summary.seconds,
        summary.underruns,
        summary
            .ended
            .outcome
            .map_or(0.0, |o| 100.0 * o.allowance_used)
    );
    Ok(())
}
