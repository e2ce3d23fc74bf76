//! Content libraries on the command line: `--content` for sessions, `isochord content`
//! to list and check libraries.

use crate::Failure;
use clap::{Args, Subcommand};
use isochord_engine::content::ContentLibrary;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

/// Where recorded content comes from.
#[derive(Args, Clone, Debug, Default)]
pub struct ContentArgs {
    /// A content library's manifest (TOML): instruments and loops presets can ask for by
    /// tag. Searched before the bundled library; may be given more than once.
    #[arg(long = "content", value_name = "MANIFEST")]
    pub manifests: Vec<PathBuf>,
    /// Play no recordings: every layer synthesised.
    #[arg(long, conflicts_with = "manifests")]
    pub no_content: bool,
}

impl ContentArgs {
    /// The libraries asked for (the bundled one last).
    pub fn library(&self) -> Result<ContentLibrary, Failure> {
        if self.no_content {
            return Ok(ContentLibrary::empty());
        }
        let mut lib = ContentLibrary::bundled();
        for m in &self.manifests {
            lib.add_manifest(m).map_err(Failure::input)?;
        }
        Ok(lib)
    }

    /// Warnings about the libraries given with `--content` that `sound` cannot use: a
    /// preset without `[sound.loops]` tags plays none of their loops and textures.
    pub fn warnings(&self, sound: &isochord_dsp::SoundscapeConfig) -> Vec<String> {
        if self.manifests.is_empty() || !sound.loops.tags.is_empty() {
            return Vec::new();
        }
        let names: Vec<String> = self
            .manifests
            .iter()
            .map(|m| m.display().to_string())
            .collect();
        let also = if sound.pulse.instrument.is_empty() && sound.melody.instrument.is_empty() {
            " and no sampled instrument: nothing from it is played"
        } else {
            ": its loops and textures are not played (only instruments the pulse or melody name)"
        };
        vec![format!(
            "warning: --content {}: the preset has no [sound.loops] tags{also}; add `[sound.loops] tags = [...]` to a copy of the preset to use them",
            names.join(", ")
        )]
    }
}

#[derive(Args)]
pub struct ContentCommand {
    #[command(subcommand)]
    action: ContentAction,
}

#[derive(Subcommand)]
enum ContentAction {
    /// List the instruments and loops presets can ask for, with their tags.
    List {
        #[command(flatten)]
        content: ContentArgs,
    },
    /// Load every item of the given manifests (default: the bundled library) and report
    /// its length, loudness, the gain that normalises it and its memory; every file that
    /// fails is named with the reason. Exits 1 if any item fails.
    Check {
        /// Manifests to check.
        manifests: Vec<PathBuf>,
        /// Engine rate to load at, Hz.
        #[arg(long, default_value_t = 48_000, value_parser = clap::value_parser!(u32).range(8_000..=192_000))]
        sample_rate: u32,
    },
}

pub fn run(cmd: ContentCommand) -> Result<ExitCode, Failure> {
    match cmd.action {
        ContentAction::List { content } => {
            let lib = content.library()?;
            println!(
                "libraries (searched in this order): {}",
                lib.names().join(", ")
            );
            for (library, i) in lib.instrument_entries() {
                let mut velocities: Vec<u8> = i
                    .samples
                    .iter()
                    .map(|n| n.velocity.unwrap_or(i.velocity))
                    .collect();
                velocities.sort_unstable();
                velocities.dedup();
                let layers = if velocities.len() > 1 {
                    format!(" in {} velocity layers", velocities.len())
                } else {
                    String::new()
                };
                println!(
                    "instrument  {:<22} {:<18} {} samples{layers}  tags: {}",
                    i.id,
                    library,
                    i.samples.len(),
                    i.tags.join(", ")
                );
            }
            for (library, l) in lib.loop_entries() {
                let shape = match (l.tempo, l.beats) {
                    (Some(t), Some(b)) => format!("{b} beats at {t} BPM"),
                    _ => "texture".to_string(),
                };
                let key = match (l.key, l.scale) {
                    (Some(k), Some(sc)) => format!(" in {k} {sc}"),
                    (Some(k), None) => format!(" in {k}"),
                    _ => String::new(),
                };
                println!(
                    "loop        {:<22} {:<18} {shape}{key}  tags: {}",
                    l.id,
                    library,
                    l.tags.join(", ")
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        ContentAction::Check {
            manifests,
            sample_rate,
        } => {
            let lib = if manifests.is_empty() {
                ContentLibrary::bundled()
            } else {
                let mut lib = ContentLibrary::empty();
                for m in &manifests {
                    lib.add_manifest(m).map_err(Failure::input)?;
                }
                lib
            };
            let t = Instant::now();
            let loaded = lib.load_all(sample_rate);
            let secs = t.elapsed().as_secs_f64();
            for i in &loaded.items {
                let lufs = i
                    .loudness_lufs
                    .map_or("unmeasured".to_string(), |l| format!("{l:.1} LUFS"));
                let moved = if i.transposed != 0 {
                    format!(", transposed {:+} semitones", i.transposed)
                } else {
                    String::new()
                };
                println!(
                    "ok    {:<10} {:<22} {:>7.1} s  {:>11}  gain {:+5.1} dB  {:>6.1} MiB{moved}",
                    i.kind,
                    i.id,
                    i.seconds,
                    lufs,
                    i.gain_db,
                    i.bytes as f64 / (1024.0 * 1024.0),
                );
            }
            for n in &loaded.notices {
                println!("FAIL  {n}");
            }
            let bytes: usize = loaded.items.iter().map(|i| i.bytes).sum();
            let n = loaded.items.len();
            println!(
                "{n} item{} loaded at {sample_rate} Hz in {secs:.2} s, {:.1} MiB of audio in memory; {} failed",
                if n == 1 { "" } else { "s" },
                bytes as f64 / (1024.0 * 1024.0),
                loaded.notices.len()
            );
            Ok(if loaded.notices.is_empty() {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            })
        }
    }
}
