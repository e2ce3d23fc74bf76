//! Decodes Ogg Opus files and checks each: `check_opus SECONDS FILE...` fails unless every
//! file decodes (libopus) to exactly SECONDS at 48 kHz after its pre-skip and is not
//! silent; prints each file's size, bit rate and level.

use std::process::ExitCode;

fn decode(path: &str) -> Result<(u64, f64, f64), String> {
    let f = std::fs::File::open(path).map_err(|e| format!("{path}: {e}"))?;
    let mut r = ogg::PacketReader::new(f);
    let head = r
        .read_packet_expected()
        .map_err(|e| format!("{path}: {e}"))?;
    if !head.data.starts_with(b"OpusHead") || head.data.len() < 19 {
        return Err(format!("{path}: not an Ogg Opus file"));
    }
    let channels = head.data[9] as usize;
    let pre_skip = u16::from_le_bytes([head.data[10], head.data[11]]) as u64;
    r.read_packet_expected()
        .map_err(|e| format!("{path}: no OpusTags: {e}"))?;
    let ch = if channels == 1 {
        opus::Channels::Mono
    } else {
        opus::Channels::Stereo
    };
    let mut dec = opus::Decoder::new(48_000, ch).map_err(|e| format!("{path}: {e}"))?;
    let mut buf = vec![0f32; channels * 5760];
    let mut pcm = Vec::new();
    let mut granule = 0;
    while let Some(p) = r.read_packet().map_err(|e| format!("{path}: {e}"))? {
        let n = dec
            .decode_float(&p.data, &mut buf, false)
            .map_err(|e| format!("{path}: {e}"))?;
        pcm.extend_from_slice(&buf[..channels * n]);
        granule = p.absgp_page();
    }
    pcm.truncate(channels * granule as usize);
    pcm.drain(..(channels * pre_skip as usize).min(pcm.len()));
    let frames = (pcm.len() / channels) as u64;
    let ms = pcm.iter().map(|&s| (s as f64).powi(2)).sum::<f64>() / pcm.len().max(1) as f64;
    let peak = pcm.iter().fold(0f32, |m, s| m.max(s.abs())) as f64;
    Ok((
        frames,
        10.0 * ms.max(1e-30).log10(),
        20.0 * peak.max(1e-30).log10(),
    ))
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some((seconds, files)) = args.split_first() else {
        eprintln!("usage: check_opus SECONDS FILE...");
        return ExitCode::from(2);
    };
    let Ok(seconds) = seconds.parse::<f64>() else {
        eprintln!("error: `{seconds}` is not a number of seconds");
        return ExitCode::from(2);
    };
    let want = (seconds * 48_000.0).round() as u64;
    let mut ok = true;
    for f in files {
        match decode(f) {
            Ok((frames, rms, peak)) => {
                let size = std::fs::metadata(f).map_or(0, |m| m.len());
                let kbps = size as f64 * 8.0 / (frames as f64 / 48_000.0) / 1000.0;
                println!(
                    "{f}: {:.3} s, {size} bytes ({kbps:.1} kbit/s), RMS {rms:.1} dBFS, peak {peak:.1} dBFS",
                    frames as f64 / 48_000.0
                );
                if frames != want {
                    eprintln!("error: {f}: {frames} frames, not {want}");
                    ok = false;
                }
                if rms < -60.0 {
                    eprintln!("error: {f}: silent (RMS {rms:.1} dBFS)");
                    ok = false;
                }
            }
            Err(e) => {
                eprintln!("error: {e}");
                ok = false;
            }
        }
    }
    if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
