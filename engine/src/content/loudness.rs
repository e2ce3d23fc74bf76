//! Loudness normalisation at load: EBU R128 integrated loudness (the ebur128 crate).

use ebur128::{EbuR128, Mode};

/// Integrated loudness of `channels` at `rate` in LUFS (ITU-R BS.1770-4 K-weighting and
/// gating), or `None` for silence or a clip too short to gate (under 0.4 s).
pub fn integrated_lufs(channels: &[Vec<f32>], rate: u32) -> Option<f64> {
    let n = channels.len();
    if n == 0 || channels[0].len() < (rate as usize * 2) / 5 {
        return None;
    }
    let mut meter = EbuR128::new(n as u32, rate, Mode::I).ok()?;
    let planes: Vec<&[f32]> = channels.iter().map(Vec::as_slice).collect();
    meter.add_frames_planar_f32(&planes).ok()?;
    let l = meter.loudness_global().ok()?;
    l.is_finite().then_some(l)
}

/// The linear gain that brings `measured_lufs` to `target_lufs`, kept within ±30 dB.
pub fn gain_to(measured_lufs: f64, target_lufs: f64) -> f32 {
    let db = (target_lufs - measured_lufs).clamp(-30.0, 30.0);
    10f64.powf(db / 20.0) as f32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_scale_1k_sine_measures_about_minus_3_lufs() {
        // BS.1770: a 0 dBFS 997 Hz sine in one channel of two reads −3.01 LUFS
        let rate = 48_000;
        let x: Vec<f32> = (0..rate * 3)
            .map(|i| (core::f32::consts::TAU * 997.0 * i as f32 / rate as f32).sin())
            .collect();
        let silent = vec![0.0; x.len()];
        let l = integrated_lufs(&[x, silent], rate as u32).unwrap();
        assert!((l + 3.01).abs() < 0.05, "{l}");
        assert!((gain_to(-33.0, -23.0) - 10f32.powf(0.5)).abs() < 1e-4);
    }
}
