//! `isochord devices`: the audio outputs `play --device` can use.

use crate::Failure;
use clap::Args;
use isochord_engine::live::list_output_devices;
use std::process::ExitCode;

#[derive(Args)]
pub struct DevicesArgs {
    /// Print one JSON object per device, one per line.
    #[arg(long)]
    json: bool,
}

pub fn run(args: DevicesArgs) -> Result<ExitCode, Failure> {
    let devices = list_output_devices().map_err(Failure::runtime)?;
    if args.json {
        for d in &devices {
            let line = serde_json::json!({
                "id": d.id,
                "name": d.name,
                "details": d.details,
                "default": d.is_default,
            });
            println!("{line}");
        }
        return Ok(ExitCode::SUCCESS);
    }
    if devices.is_empty() {
        return Err(Failure::runtime(
            "no audio output devices found (no sound card or sound server?)",
        ));
    }
    let width = devices.iter().map(|d| d.id.len()).max().unwrap_or(2).max(2);
    println!("  {:<width$}  NAME", "ID");
    for d in &devices {
        let mark = if d.is_default { "*" } else { " " };
        println!("{mark} {:<width$}  {}", d.id, d.name);
        for line in &d.details {
            println!("  {:<width$}    {}", "", line);
        }
    }
    println!("\n* the default output. `isochord play --device ID` picks another.");
    Ok(ExitCode::SUCCESS)
}
