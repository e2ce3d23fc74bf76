//! An app's own layer, written as a fundsp graph: wind.
//!
//! Pink noise runs through a Moog ladder whose cutoff follows the soundscape's
//! brightness (250 Hz at 0, 4 kHz at 1) and whose level follows the breath guide's
//! swell (it blows on the in-breath and settles on the out-breath). The graph reads the
//! steered parameters through fundsp `Shared` values that the engine updates every
//! block on the audio thread; the engine mixes, levels and limits the layer like its own.
//!
//! The session plays the `relax` preset while an automation arc raises brightness from
//! 0.15 to 0.9 and lowers it again, and renders offline to `custom_layer.wav`
//! (refused if the file exists; give another name as the second argument). Every 10 s it
//! prints the brightness the wind heard and the wind's level.
//!
//! `cargo run --release --example custom_layer [SECONDS] [OUT.wav]`

use isochord::dsp::custom::{CustomLayer, Steering};
use isochord::dsp::fundsp::prelude32::*;
use isochord::session::SessionPlan;
use isochord::{Automation, Preset, SampleFormat, WavSink};
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::time::Duration;

/// Wind in stereo: two independent noises through the same moving filter.
fn wind(s: &Steering) -> Box<dyn AudioUnit> {
    let side = || {
        // cutoff: 250 Hz .. 4 kHz, exponential in brightness
        let cutoff = var_fn(&s.brightness, |b| 250.0 * 16f32.powf(b.clamp(0.0, 1.0)));
        // level: a quiet floor, gusting with the breath
        let level = var_fn(&s.breath_swell, |w| 0.2 + 0.8 * w);
        ((pink() | cutoff | dc(0.55)) >> moog()) * level
    };
    Box::new(side() | side())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let seconds: u64 = args.next().map(|s| s.parse()).transpose()?.unwrap_or(60);
    let out = PathBuf::from(args.next().unwrap_or_else(|| "custom_layer.wav".into()));
    if out.exists() {
        return Err(format!("{} exists; give another file name", out.display()).into());
    }
    let rate = 48_000;

    // control thread: build the graph on the engine's steering values
    let steering = Steering::new();
    let layer = CustomLayer::new("wind", wind(&steering), &steering, 0.8)?;
    let control = layer.control();

    let arc = format!(
        "time,brightness,breath_rate\n0s,0.15,6\n{}s,0.9,6\n{}s,0.15,6\n",
        seconds / 2,
        seconds
    );
    let arc = Automation::parse(&arc, Path::new("brightness-arc.csv"))?;
    let preset = Preset::find("relax")?;
    let plan = SessionPlan::automated(&preset, Duration::from_secs(seconds), 1, arc)
        .with_content(None)
        .with_custom_layer(layer)?;
    let (offline, _end) = plan.offline(rate)?;

    let mut wav = WavSink::create(&out, rate, SampleFormat::F32)?;
    let stop = AtomicBool::new(false);
    let mut next_print = 0u64;
    let outcome = offline.render(
        |buf| wav.write(buf),
        &stop,
        |done, _| {
            if done >= next_print {
                next_print += 10 * rate as u64;
                let m = control.take_meter();
                println!(
                    "{:4} s  brightness {:.2}  wind {:6.1} dBFS (peak {:.2})",
                    done / rate as u64,
                    steering.values().brightness,
                    m.rms_dbfs(),
                    m.peak
                );
            }
        },
    )?;
    let files = wav.finish()?;
    println!(
        "wrote {} ({:.1} s, {:.1} dBFS, peak {:.1} dBFS)",
        files[0].display(),
        outcome.frames as f64 / rate as f64,
        outcome.meter.rms_dbfs(),
        outcome.meter.peak_dbfs()
    );
    Ok(())
}
