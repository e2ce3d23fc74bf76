//! `isochord`: render and play adaptive therapeutic soundscapes.

mod adaptive;
mod content;
mod devices;
mod features;
mod model;
mod play;
mod presets;
mod render;
mod render_batch;
mod report;

use clap::{Parser, Subcommand};
use std::process::ExitCode;
use std::time::Instant;

/// Adaptive therapeutic soundscapes, steered by the body.
#[derive(Parser)]
#[command(name = "isochord", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Render a session offline to a WAV, FLAC or Ogg Opus file.
    Render(render::RenderArgs),
    /// Play a session live on the sound card.
    Play(play::PlayArgs),
    /// List the audio output devices `play --device` can use.
    Devices(devices::DevicesArgs),
    /// List the presets, or show one.
    Presets(presets::PresetsArgs),
    /// Windowed biometric features (HRV, EDA, respiration, movement) from a recording.
    Features(features::FeaturesArgs),
    /// Arousal models: show a model's contract, or score it on labelled data.
    Model(model::ModelArgs),
    /// A clinical-review report (summary, timeline, plots, HTML page, FHIR R4 export) from a session log.
    Report(report::ReportArgs),
    /// Render every recording in a folder (in parallel), each with its WAV and report.
    RenderBatch(render_batch::BatchArgs),
    /// Combine the shards of a `render-batch --shard` run into one summaries.csv and index.html.
    RenderBatchMerge(render_batch::MergeArgs),
    /// Content libraries: list what presets can ask for, or check a library's files.
    Content(content::ContentCommand),
}

/// A failure with the exit code it deserves.
pub struct Failure {
    code: u8,
    message: String,
}

impl Failure {
    /// Bad input from the user: exit code 2.
    pub fn input(message: impl std::fmt::Display) -> Self {
        Self {
            code: 2,
            message: message.to_string(),
        }
    }

    /// Something failed while running: exit code 1.
    pub fn runtime(message: impl std::fmt::Display) -> Self {
        Self {
            code: 1,
            message: message.to_string(),
        }
    }
}

fn main() -> ExitCode {
    // the reference for `play`'s time to first audio
    let started = Instant::now();
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Render(args) => render::run(args),
        Command::Play(args) => play::run(args, started),
        Command::Devices(args) => devices::run(args),
        Command::Presets(args) => presets::run(args),
        Command::Features(args) => features::run(args),
        Command::Model(args) => model::run(args),
        Command::Report(args) => report::run(args),
        Command::RenderBatch(args) => render_batch::run(args),
        Command::RenderBatchMerge(args) => render_batch::merge(args),
        Command::Content(cmd) => content::run(cmd),
    };
    match result {
        Ok(code) => code,
        Err(f) => {
            eprintln!("error: {}", f.message);
            ExitCode::from(f.code)
        }
    }
}
