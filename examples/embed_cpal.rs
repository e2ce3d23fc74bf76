//! The engine opens the sound card itself: play a preset live and steer it.
//!
//! `LiveOutput::play` picks the default output device, builds the engine at the device's
//! native sample rate and starts the stream; the audio thread is cpal's. This thread is
//! the control thread: it slowly darkens the sound (brightness 0.7 → 0.2), reads
//! telemetry, and fades out at the end.
//!
//! `cargo run --release --example embed_cpal [SECONDS]` (default 10)

use isochord::{DeviceChoice, LiveOptions, LiveOutput};
use isochord::{Param, Preset, CONTROL_RATE_HZ};
use std::time::{Duration, Instant};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let seconds: f64 = std::env::args()
        .nth(1)
        .map(|s| s.parse())
        .transpose()?
        .unwrap_or(10.0);
    let preset = Preset::find("relax")?;
    let (mut live, mut handle) = LiveOutput::play(&preset.sound, 1, &LiveOptions::default())?;
    println!(
        "playing {} on {} at {} Hz ({}); Ctrl-C to quit",
        preset.name,
        live.device_name(),
        live.sample_rate(),
        live.sample_format()
    );

    let start = Instant::now();
    let tick = Duration::from_secs_f64(1.0 / CONTROL_RATE_HZ);
    let fade = 2.0f64.min(seconds / 3.0);
    let mut next_print = 0.0;
    loop {
        let t = start.elapsed().as_secs_f64();
        if t >= seconds - fade {
            break;
        }
        // steer: brightness falls linearly over the session
        handle.set(Param::Brightness, (0.7 - 0.5 * t / seconds) as f32);
        if let Some(tel) = handle.poll() {
            if t >= next_print {
                next_print = t.floor() + 1.0;
                println!(
                    "{t:5.1} s  brightness {:.2}  level {:6.1} dBFS  underruns {}",
                    tel.values[Param::Brightness.index()],
                    20.0 * tel.rms.max(1e-9).log10(),
                    live.underruns()
                );
            }
        }
        while let Some(event) = live.next_event() {
            eprintln!("stream: {event:?}");
            if event.needs_reopen() {
                live.reopen(&DeviceChoice::Default)?;
            }
        }
        std::thread::sleep(tick);
    }

    // fade out, wait until the audio thread says it is silent, then stop
    handle.fade_out(fade as f32);
    let deadline = Instant::now() + Duration::from_secs_f64(fade + 1.0);
    while Instant::now() < deadline {
        if handle.poll().is_some_and(|t| t.faded_out) {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    live.stop();
    println!("done: {:.1} s played", start.elapsed().as_secs_f64());
    Ok(())
}
