//! A host steering the engine from its own thread while another thread renders.
//!
//! The steering thread owns the `EngineHandle` and, like a biometric controller would,
//! moves tempo, density and breath rate every 100 ms; the audio thread owns the
//! `Renderer` and pulls 128-frame blocks, paced in real time. Telemetry comes back to the
//! steering thread, which prints what the listener hears.
//!
//! This is the engine at its lowest level, for hosts with their own control logic. A
//! whole session (what steers it, fades, the sound allowance, the log) runs from a
//! `SessionPlan`: see `embed_adaptive.rs`, `embed_pull.rs` and `embed_cpal.rs`.
//!
//! `cargo run --release --example steer [SECONDS]`

use isochord::{new_engine, Param, Preset};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let seconds: f32 = std::env::args()
        .nth(1)
        .map(|s| s.parse())
        .transpose()?
        .unwrap_or(10.0);
    let rate = 48_000.0;
    let preset = Preset::find("focus")?;
    let (mut handle, mut renderer) = new_engine(&preset.sound, rate, 7);
    let running = Arc::new(AtomicBool::new(true));

    let audio_running = running.clone();
    let audio = std::thread::spawn(move || {
        let mut block = [0.0f32; 2 * 128];
        let period = Duration::from_secs_f32(128.0 / rate);
        let start = Instant::now();
        let mut n = 0u32;
        while audio_running.load(Ordering::Relaxed) {
            renderer.render(&mut block);
            n += 1;
            // stand-in for the device's clock
            if let Some(wait) = (period * n).checked_sub(start.elapsed()) {
                std::thread::sleep(wait);
            }
        }
    });

    let start = Instant::now();
    while start.elapsed().as_secs_f32() < seconds {
        let t = start.elapsed().as_secs_f32();
        // a slow arc from activated to calm
        let calm = (t / seconds).min(1.0);
        handle.set(Param::Tempo, 84.0 - 24.0 * calm);
        handle.set(Param::Density, 0.8 - 0.5 * calm);
        handle.set(Param::BreathRate, 10.0 - 4.0 * calm);
        if let Some(tel) = handle.poll() {
            if ((t * 10.0) as u32).is_multiple_of(10) {
                println!(
                    "{t:4.1} s  tempo {:5.1} BPM  density {:.2}  breath {:4.1}/min  level {:.1} dBFS",
                    tel.values[Param::Tempo.index()],
                    tel.values[Param::Density.index()],
                    tel.values[Param::BreathRate.index()],
                    20.0 * tel.rms.max(1e-9).log10()
                );
            }
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    running.store(false, Ordering::Relaxed);
    audio.join().expect("audio thread");
    Ok(())
}
