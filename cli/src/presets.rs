//! `isochord presets [show NAME]`.

use crate::Failure;
use clap::{Args, Subcommand};
use isochord_engine::{format_duration, Preset};
use std::process::ExitCode;

#[derive(Args)]
pub struct PresetsArgs {
    #[command(subcommand)]
    action: Option<PresetsAction>,
}

#[derive(Subcommand)]
enum PresetsAction {
    /// Print a preset's TOML (a built-in name or a path to a .toml file).
    Show {
        /// Built-in preset name or path.
        name: String,
    },
}

pub fn run(args: PresetsArgs) -> Result<ExitCode, Failure> {
    match args.action {
        None => {
            println!(
                "{:<8} {:<11} {:>6} {:>5}  {:<22} DESCRIPTION",
                "NAME", "GOAL", "LENGTH", "BPM", "KEY"
            );
            for p in Preset::builtins() {
                let s = &p.sound;
                println!(
                    "{:<8} {:<11} {:>6} {:>5}  {:<22} {}",
                    p.name,
                    format!("{:?}", p.goal).to_lowercase(),
                    format_duration(p.duration),
                    s.start.tempo,
                    format!("{} {}", s.key, s.scale),
                    p.description
                );
            }
            println!("\n`isochord presets show NAME` prints one; copy it to make your own.");
        }
        Some(PresetsAction::Show { name }) => {
            // validate first, so a bad file is reported rather than printed
            Preset::find(&name).map_err(Failure::input)?;
            let text = match Preset::builtin_text(&name) {
                Some(t) => t.to_string(),
                None => std::fs::read_to_string(&name)
                    .map_err(|e| Failure::input(format!("{name}: {e}")))?,
            };
            print!("{text}");
        }
    }
    Ok(ExitCode::SUCCESS)
}
