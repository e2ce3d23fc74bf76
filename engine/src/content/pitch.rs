//! Measuring the pitch a note was recorded at, so playback can correct it.

use realfft::RealFftPlanner;

/// The fundamental frequency of `mono` at `rate` within ±`search_cents` of `nominal_hz`:
/// the highest spectral peak in that band (Hann window, 8× zero padding, parabolic
/// interpolation on log magnitude). `None` if there is too little signal to tell.
/// Control thread.
pub fn measure_pitch(mono: &[f32], rate: u32, nominal_hz: f32, search_cents: f32) -> Option<f32> {
    let n = mono.len();
    if n < 1024 || nominal_hz.is_nan() || nominal_hz <= 0.0 {
        return None;
    }
    let nfft = (n * 8).next_power_of_two();
    let mut buf = vec![0.0f32; nfft];
    for (i, (b, x)) in buf.iter_mut().zip(mono).enumerate() {
        let w = 0.5 - 0.5 * (core::f32::consts::TAU * i as f32 / n as f32).cos();
        *b = x * w;
    }
    let fft = RealFftPlanner::<f32>::new().plan_fft_forward(nfft);
    let mut spec = fft.make_output_vec();
    fft.process(&mut buf, &mut spec).ok()?;
    let sr = rate as f32;
    let bin = |f: f32| (f * nfft as f32 / sr).round() as usize;
    let span = 2f32.powf(search_cents / 1200.0);
    let lo = bin(nominal_hz / span).max(1);
    let hi = bin(nominal_hz * span).min(spec.len() - 2);
    if lo >= hi {
        return None;
    }
    let mag: Vec<f32> = spec.iter().map(|c| c.norm().max(1e-20).ln()).collect();
    let k = (lo..=hi).max_by(|a, b| mag[*a].total_cmp(&mag[*b]))?;
    if k == lo || k == hi {
        return None; // the band's edge: no peak inside it
    }
    // the median level within two semitones: the surroundings, not the peak's lobe
    let wide = 2f32.powf(200.0 / 1200.0);
    let mut around: Vec<f32> =
        mag[bin(nominal_hz / wide).max(1)..=bin(nominal_hz * wide).min(spec.len() - 1)].to_vec();
    around.sort_by(f32::total_cmp);
    let floor = around[around.len() / 2];
    if mag[k] - floor < 2.0 {
        return None; // under ~17 dB above its surroundings: not a clear partial
    }
    let (a, b, c) = (mag[k - 1], mag[k], mag[k + 1]);
    let den = a - 2.0 * b + c;
    let d = if den.abs() > 1e-12 {
        0.5 * (a - c) / den
    } else {
        0.0
    };
    Some((k as f32 + d) * sr / nfft as f32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_a_detuned_sine_to_a_tenth_of_a_cent() {
        let rate = 48_000;
        for hz in [110.0f32, 447.3, 2101.0] {
            let x: Vec<f32> = (0..72_000)
                .map(|i| (core::f32::consts::TAU * hz * i as f32 / rate as f32).sin())
                .collect();
            let nominal = hz * 2f32.powf(-20.0 / 1200.0);
            let f = measure_pitch(&x, rate, nominal, 60.0).unwrap();
            assert!((1200.0 * (f / hz).log2()).abs() < 0.1, "{hz}: {f}");
        }
        assert_eq!(measure_pitch(&vec![0.0; 48_000], rate, 440.0, 60.0), None);
    }
}
