//! Fixed-ratio resampling at load time with rubato: sample-rate conversion by its FFT
//! resampler, transposition (an irrational ratio) by its sinc resampler.

use audioadapter_buffers::direct::SequentialSliceOfVecs;
use rubato::{
    Async, Fft, FixedAsync, FixedSync, Resampler, SincInterpolationParameters,
    SincInterpolationType, WindowFunction,
};

/// Frames of each loop's own material wrapped around it before resampling, so the
/// filter sees a loop, not silence, at the loop point.
pub const LOOP_PAD: usize = 2048;

/// Resamples `channels` (equal lengths) so that, played at `to_rate`, they sound
/// `pitch` times higher (and `pitch` times shorter) than at `from_rate`. `pitch` 1
/// converts the rate only, with rubato's synchronous FFT resampler; any other value uses
/// its asynchronous sinc resampler (256 taps). Returns the channels unchanged when there
/// is nothing to do. Control thread (allocates).
pub fn resample(
    channels: &[Vec<f32>],
    from_rate: u32,
    to_rate: u32,
    pitch: f64,
) -> Result<Vec<Vec<f32>>, String> {
    let n = channels.len();
    let len = channels.first().map_or(0, Vec::len);
    if n == 0 || len == 0 {
        return Ok(channels.to_vec());
    }
    if from_rate == to_rate && pitch == 1.0 {
        return Ok(channels.to_vec());
    }
    let input = SequentialSliceOfVecs::new(channels, n, len).map_err(|e| e.to_string())?;
    let mut resampler: Box<dyn Resampler<f32>> = if pitch == 1.0 {
        Box::new(
            Fft::<f32>::new(
                from_rate as usize,
                to_rate as usize,
                1024,
                n,
                FixedSync::Input,
            )
            .map_err(|e| e.to_string())?,
        )
    } else {
        let params = SincInterpolationParameters {
            sinc_len: 256,
            f_cutoff: None,
            oversampling_factor: 256,
            interpolation: SincInterpolationType::Cubic,
            window: WindowFunction::BlackmanHarris2,
        };
        let ratio = to_rate as f64 / from_rate as f64 / pitch;
        Box::new(
            Async::<f32>::new_sinc(ratio, 1.0, &params, 1024, n, FixedAsync::Input)
                .map_err(|e| e.to_string())?,
        )
    };
    let out_len = resampler.process_all_needed_output_len(len);
    let mut out = vec![vec![0.0f32; out_len]; n];
    let mut output =
        SequentialSliceOfVecs::new_mut(&mut out, n, out_len).map_err(|e| e.to_string())?;
    let (_, produced) = resampler
        .process_all_into_buffer(&input, &mut output, len, None)
        .map_err(|e| e.to_string())?;
    // rubato counts len × ratio rounded up in floating point (44100 at 48/44.1 → 48001)
    let exact = (len as f64 * to_rate as f64 / (from_rate as f64 * pitch)).ceil() as usize;
    for c in out.iter_mut() {
        c.truncate(produced.min(exact));
    }
    Ok(out)
}

/// Resamples the loop `channels[start..end]` as a loop: wrapped in [`LOOP_PAD`] frames of
/// itself on each side, resampled, and cut back, so the loop point stays seamless.
/// Returns the loop alone. Control thread.
pub fn resample_loop(
    channels: &[Vec<f32>],
    start: usize,
    end: usize,
    from_rate: u32,
    to_rate: u32,
    pitch: f64,
) -> Result<Vec<Vec<f32>>, String> {
    let len = end.saturating_sub(start);
    if len == 0 {
        return Ok(vec![Vec::new(); channels.len()]);
    }
    let ratio = to_rate as f64 / from_rate as f64 / pitch;
    if ratio == 1.0 {
        return Ok(channels.iter().map(|c| c[start..end].to_vec()).collect());
    }
    let pad = LOOP_PAD.min(len);
    let padded: Vec<Vec<f32>> = channels
        .iter()
        .map(|c| {
            let lp = &c[start..end];
            let mut v = Vec::with_capacity(len + 2 * pad);
            v.extend_from_slice(&lp[len - pad..]);
            v.extend_from_slice(lp);
            v.extend_from_slice(&lp[..pad]);
            v
        })
        .collect();
    let out = resample(&padded, from_rate, to_rate, pitch)?;
    let skip = (pad as f64 * ratio).round() as usize;
    let keep = (len as f64 * ratio).round() as usize;
    Ok(out
        .into_iter()
        .map(|c| c[skip.min(c.len())..(skip + keep).min(c.len())].to_vec())
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rate_conversion_keeps_length_and_frequency() {
        let sr = 44_100.0;
        let x: Vec<f32> = (0..44_100)
            .map(|i| (core::f32::consts::TAU * 1000.0 * i as f32 / sr).sin())
            .collect();
        let y = resample(&[x], 44_100, 48_000, 1.0).unwrap();
        assert_eq!(y[0].len(), 48_000);
        // zero crossings over the middle half second: 1000 per second, two per period
        let mid = &y[0][12_000..36_000];
        let crossings = mid.windows(2).filter(|w| w[0] < 0.0 && w[1] >= 0.0).count();
        assert!((crossings as i32 - 500).abs() <= 1, "{crossings}");
    }

    #[test]
    fn transposition_shortens_and_raises() {
        let sr = 48_000.0;
        let x: Vec<f32> = (0..48_000)
            .map(|i| (core::f32::consts::TAU * 440.0 * i as f32 / sr).sin())
            .collect();
        let up = 2f64.powf(2.0 / 12.0);
        let y = resample(&[x], 48_000, 48_000, up).unwrap();
        let want = (48_000.0 / up).round() as i64;
        assert!(
            (y[0].len() as i64 - want).abs() <= 2,
            "{} vs {want}",
            y[0].len()
        );
        let mid = &y[0][8_000..32_000];
        let crossings = mid.windows(2).filter(|w| w[0] < 0.0 && w[1] >= 0.0).count();
        let hz = crossings as f64 / 0.5;
        assert!((hz - 440.0 * up).abs() < 4.0, "{hz}");
    }
}
