//! A host that owns its audio callback pulls audio from the engine: no cpal involved.
//!
//! Here the "callback" is a loop that asks for 256 frames at a time, as an audio API
//! would, and writes them to `embed_pull.wav`. In a real app the body of the loop is the
//! body of your audio callback.
//!
//! `cargo run --release --example embed_pull [SECONDS]`

use isochord::{new_engine, Layer, Param, Preset, SampleFormat, WavSink};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let seconds: f32 = std::env::args()
        .nth(1)
        .map(|s| s.parse())
        .transpose()?
        .unwrap_or(20.0);
    let rate = 48_000;
    let preset = Preset::find("relax")?;
    // control side: build once (this allocates and calibrates)
    let (mut handle, mut renderer) = new_engine(&preset.sound, rate as f32, 1);
    let mut wav = WavSink::create(
        std::path::Path::new("embed_pull.wav"),
        rate,
        SampleFormat::F32,
    )?;

    let frames_per_callback = 256;
    let mut buffer = vec![0.0f32; 2 * frames_per_callback];
    let callbacks = (seconds * rate as f32) as usize / frames_per_callback;
    for i in 0..callbacks {
        // --- what your audio callback does: one call, real-time safe ---
        renderer.render(&mut buffer);
        // ---------------------------------------------------------------
        wav.write(&buffer)?;
        // your control code, anywhere else: here, darken and thin the sound half-way
        if i == callbacks / 2 {
            handle.set(Param::Brightness, 0.1);
            handle.set(Param::Gain(Layer::Melody), 0.0);
        }
        if let Some(t) = handle.poll() {
            if t.frames % (rate as u64 * 5) < 2400 {
                println!(
                    "{:5.1} s  brightness {:.2}  level {:.1} dBFS",
                    t.frames as f32 / rate as f32,
                    t.values[Param::Brightness.index()],
                    20.0 * t.rms.max(1e-9).log10()
                );
            }
        }
    }
    let files = wav.finish()?;
    println!("wrote {}", files[0].display());
    Ok(())
}
