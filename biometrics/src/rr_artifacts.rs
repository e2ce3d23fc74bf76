//! Artifact handling on RR-interval series: implausible intervals, ectopic, missed and
//! extra beats, and gaps.
//!
//! An RR series here is a list of [`Rr`]: the interval's length and the time of the beat
//! that ends it. Two intervals are *successive* when the second one's end time minus the
//! first one's equals the second interval (within 10 ms, NeuroKit2's
//! `intervals_successive` rule); across a gap (Empatica IBI with dropped beats, rejected
//! beats, contact loss) they are not, and no successive difference is formed there.
//!
//! Rules (docs/domain.md, "Artifacts"), applied in order:
//! 1. **Implausible**: outside 300–2000 ms (or not finite).
//! 2. **Local median** (default on): an interval deviating more than 20 % from the
//!    median of the 11 plausible intervals around it marks the beat that ends it as
//!    abnormal.
//! 3. **Lipponen & Tarvainen (2019)** (default on; J Med Eng Technol 43(3):173–181), as
//!    implemented in NeuroKit2's `signal_fixpeaks(method="kubios")`: successive
//!    differences and deviations from the 11-beat median, normalised by a robust spread
//!    over 91 beats, classify ectopic, missed, extra and long/short beats.
//!
//! Abnormal beats are *rejected*, never corrected or interpolated: a missed beat rejects
//! the long interval; any other abnormal beat rejects both intervals it touches (the
//! short and the compensatory long one of an ectopic beat, the two halves of a split
//! one). Features then use the accepted intervals only, with successive differences only
//! between accepted intervals that are themselves successive.
//!
//! [`correct_beats`] is the other convention, NeuroKit2's: the same classification, but
//! abnormal beats are deleted, inserted or moved to interpolated positions. NeuroKit2's
//! `ecg_process` applies it to every R-peak series it reports, so HRV compared with
//! NeuroKit2's ECG values must go through it.
//!
//! Runs on the control thread.

use super::filters::{median, quantile_sorted};

/// One RR interval.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Rr {
    /// Time of the beat that ends the interval, seconds.
    pub time: f64,
    /// Interval length, milliseconds.
    pub ms: f64,
}

/// Why an interval was rejected (or that it was not).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RrStatus {
    /// Used for features.
    Accepted,
    /// Outside the plausible range or not finite.
    Implausible,
    /// Touches a beat deviating from the local median.
    Deviant,
    /// Touches an ectopic beat (Lipponen & Tarvainen).
    Ectopic,
    /// Spans a missed beat.
    Missed,
    /// Touches an extra (false) beat.
    Extra,
    /// Touches a long/short beat.
    LongShort,
}

/// Which rules run after the plausibility check.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ArtifactConfig {
    /// Shortest plausible interval, ms.
    pub min_ms: f64,
    /// Longest plausible interval, ms.
    pub max_ms: f64,
    /// Local-median rule: maximum relative deviation, `None` to switch it off.
    pub median_threshold: Option<f64>,
    /// Half-width of the local-median window, in intervals.
    pub median_half_window: usize,
    /// Run the Lipponen & Tarvainen (2019) classification.
    pub lipponen: bool,
    /// Two intervals are successive when their end times differ by their length within
    /// this tolerance, ms.
    pub successive_tolerance_ms: f64,
}

impl Default for ArtifactConfig {
    fn default() -> Self {
        Self {
            min_ms: 300.0,
            max_ms: 2000.0,
            median_threshold: Some(0.2),
            median_half_window: 5,
            lipponen: true,
            successive_tolerance_ms: 10.0,
        }
    }
}

impl ArtifactConfig {
    /// No rejection at all beyond non-finite values: every interval is used, as NeuroKit2
    /// does with `correct_artifacts=False` (for comparisons on identical series).
    pub fn none() -> Self {
        Self {
            min_ms: 0.0,
            max_ms: f64::INFINITY,
            median_threshold: None,
            median_half_window: 5,
            lipponen: false,
            successive_tolerance_ms: 10.0,
        }
    }
}

/// Whether each neighbouring pair `(rr[i], rr[i + 1])` is successive (length `n - 1`).
pub fn successive(rr: &[Rr], tolerance_ms: f64) -> Vec<bool> {
    rr.windows(2)
        .map(|w| ((w[1].time - w[0].time) * 1000.0 - w[1].ms).abs() <= tolerance_ms)
        .collect()
}

/// Classifies every interval.
pub fn classify(rr: &[Rr], cfg: &ArtifactConfig) -> Vec<RrStatus> {
    let n = rr.len();
    let mut status: Vec<RrStatus> = rr
        .iter()
        .map(|r| {
            if r.ms.is_finite() && r.time.is_finite() && r.ms >= cfg.min_ms && r.ms <= cfg.max_ms {
                RrStatus::Accepted
            } else {
                RrStatus::Implausible
            }
        })
        .collect();
    let succ = successive(rr, cfg.successive_tolerance_ms);
    // runs of plausible, successive intervals
    let mut start = 0;
    while start < n {
        if status[start] != RrStatus::Accepted {
            start += 1;
            continue;
        }
        let mut end = start + 1;
        while end < n && status[end] == RrStatus::Accepted && succ[end - 1] {
            end += 1;
        }
        let seg: Vec<f64> = rr[start..end].iter().map(|r| r.ms).collect();
        let mut marks: Vec<(usize, RrStatus)> = Vec::new();
        if let Some(thr) = cfg.median_threshold {
            marks.extend(
                local_median_beats(&seg, thr, cfg.median_half_window)
                    .into_iter()
                    .map(|i| (i, RrStatus::Deviant)),
            );
        }
        if cfg.lipponen {
            marks.extend(lipponen(&seg));
        }
        for (i, kind) in marks {
            let mut reject = |j: usize| {
                if j < seg.len() && status[start + j] == RrStatus::Accepted {
                    status[start + j] = kind;
                }
            };
            reject(i);
            if kind != RrStatus::Missed {
                reject(i + 1);
            }
        }
        start = end;
    }
    status
}

/// Indices of intervals deviating more than `thr` from the median of the `2 h + 1`
/// intervals around them.
fn local_median_beats(x: &[f64], thr: f64, h: usize) -> Vec<usize> {
    if x.len() < 3 {
        return Vec::new();
    }
    (0..x.len())
        .filter(|&i| {
            let lo = i.saturating_sub(h);
            let hi = (i + h + 1).min(x.len());
            let m = median(&x[lo..hi]).unwrap_or(x[i]);
            (x[i] / m - 1.0).abs() > thr
        })
        .collect()
}

/// Centred rolling quantiles of `|x|` (pandas `rolling(w, center=True,
/// min_periods=1).quantile`), returning `alpha * (q3 - q1) / 2`.
fn spread_threshold(x: &[f64], alpha: f64, w: usize) -> Vec<f64> {
    let n = x.len();
    let back = w / 2;
    let fwd = w - back - 1;
    let mut buf = Vec::with_capacity(w);
    (0..n)
        .map(|i| {
            let lo = i.saturating_sub(back);
            let hi = (i + fwd + 1).min(n);
            buf.clear();
            buf.extend(x[lo..hi].iter().map(|v| v.abs()).filter(|v| !v.is_nan()));
            buf.sort_by(f64::total_cmp);
            alpha * (quantile_sorted(&buf, 0.75) - quantile_sorted(&buf, 0.25)) / 2.0
        })
        .collect()
}

/// Centred rolling median over `w` values (pandas `rolling(w, center=True,
/// min_periods=1).median()`).
fn rolling_median(x: &[f64], w: usize) -> Vec<f64> {
    let n = x.len();
    let back = w / 2;
    let fwd = w - back - 1;
    (0..n)
        .map(|i| median(&x[i.saturating_sub(back)..(i + fwd + 1).min(n)]).unwrap_or(f64::NAN))
        .collect()
}

/// Lipponen & Tarvainen (2019) on an interval series `x`: (interval index, class) for
/// the intervals that end an abnormal beat (see [`find_artifacts`]).
fn lipponen(x: &[f64]) -> Vec<(usize, RrStatus)> {
    find_artifacts(x)
        .into_iter()
        .filter(|(peak, _)| *peak >= 1)
        .map(|(peak, kind)| (peak - 1, kind))
        .collect()
}

/// Lipponen & Tarvainen (2019) as NeuroKit2 0.2 `_find_artifacts` (c1 = 0.13, c2 = 0.17,
/// alpha = 5.2, 91-beat spread window, 11-beat median) on the intervals `x` between
/// consecutive beats. Returns (beat index, class) in the order found, beat `j` being the
/// one that ends interval `j - 1` (beat 0 starts the series). A normalised value whose
/// spread is zero is undefined (NaN, as in NeuroKit2) and classifies nothing.
fn find_artifacts(x: &[f64]) -> Vec<(usize, RrStatus)> {
    if x.len() < 4 {
        return Vec::new();
    }
    let (c1, c2, alpha, ww, mw) = (0.13, 0.17, 5.2, 91, 11);
    // NeuroKit's series has one entry per peak: rr[0] is the mean of the others
    let mut rr = Vec::with_capacity(x.len() + 1);
    rr.push(x.iter().sum::<f64>() / x.len() as f64);
    rr.extend_from_slice(x);
    let n = rr.len();
    let mut drrs = vec![0.0; n];
    for i in 1..n {
        drrs[i] = rr[i] - rr[i - 1];
    }
    drrs[0] = drrs[1..].iter().sum::<f64>() / (n - 1) as f64;
    let th1 = spread_threshold(&drrs, alpha, ww);
    for (d, t) in drrs.iter_mut().zip(&th1) {
        *d = if *t != 0.0 { *d / t } else { f64::NAN };
    }
    // reflect padding by 2 (NumPy "reflect")
    let pad = |k: isize| -> f64 {
        let m = n as isize;
        let mut j = k;
        if j < 0 {
            j = -j;
        }
        if j >= m {
            j = 2 * (m - 1) - j;
        }
        drrs[j.clamp(0, m - 1) as usize]
    };
    // NumPy's max/min of two values: NaN when either is NaN
    let max = |a: f64, b: f64| {
        if a.is_nan() || b.is_nan() {
            f64::NAN
        } else {
            a.max(b)
        }
    };
    let min = |a: f64, b: f64| {
        if a.is_nan() || b.is_nan() {
            f64::NAN
        } else {
            a.min(b)
        }
    };
    let mut s12 = vec![0.0; n];
    let mut s22 = vec![0.0; n];
    for d in 0..n {
        let k = d as isize;
        if drrs[d] > 0.0 {
            s12[d] = max(pad(k - 1), pad(k + 1));
        } else if drrs[d] < 0.0 {
            s12[d] = min(pad(k - 1), pad(k + 1));
        }
        if drrs[d] >= 0.0 {
            s22[d] = min(pad(k + 1), pad(k + 2));
        } else if drrs[d] < 0.0 {
            s22[d] = max(pad(k + 1), pad(k + 2));
        }
    }
    let medrr = rolling_median(&rr, mw);
    let mut mrrs: Vec<f64> = rr
        .iter()
        .zip(&medrr)
        .map(|(r, m)| {
            let d = r - m;
            if d < 0.0 {
                2.0 * d
            } else {
                d
            }
        })
        .collect();
    let th2 = spread_threshold(&mrrs, alpha, ww);
    for (d, t) in mrrs.iter_mut().zip(&th2) {
        *d = if *t != 0.0 { *d / t } else { f64::NAN };
    }
    let mut out: Vec<(usize, RrStatus)> = Vec::new();
    let mut mark = |peak: usize, kind: RrStatus| out.push((peak, kind));
    let mut i = 0;
    while i + 2 < n {
        if drrs[i].abs() <= 1.0 {
            i += 1;
            continue;
        }
        let eq1 = drrs[i] > 1.0 && s12[i] < (-c1 * drrs[i] - c2);
        let eq2 = drrs[i] < -1.0 && s12[i] > (-c1 * drrs[i] + c2);
        if eq1 || eq2 {
            mark(i, RrStatus::Ectopic);
            i += 1;
            continue;
        }
        if !(drrs[i].abs() > 1.0 || mrrs[i].abs() > 3.0) {
            i += 1;
            continue;
        }
        let mut cands = vec![i];
        if drrs[i + 1].abs() < drrs[i + 2].abs() {
            cands.push(i + 1);
        }
        for j in cands {
            let eq3 = drrs[j] > 1.0 && s22[j] < -1.0;
            let eq4 = mrrs[j].abs() > 3.0;
            let eq5 = drrs[j] < -1.0 && s22[j] > 1.0;
            if !(eq3 || eq4 || eq5) {
                i += 1;
                continue;
            }
            let eq6 = (rr[j] / 2.0 - medrr[j]).abs() < th2[j];
            let next = rr.get(j + 1).copied().unwrap_or(f64::NAN);
            let eq7 = (rr[j] + next - medrr[j]).abs() < th2[j];
            if eq5 && eq7 {
                mark(j, RrStatus::Extra);
            } else if eq3 && eq6 {
                mark(j, RrStatus::Missed);
            } else {
                mark(j, RrStatus::LongShort);
            }
            i += 1;
        }
    }
    out
}

/// Corrects beat positions (ascending sample indices at `fs` Hz) as NeuroKit2 0.2's
/// `signal_fixpeaks(method="kubios", iterative=True)` does, which `ecg_process` applies
/// to every R-peak series it returns: beats are classified by Lipponen & Tarvainen
/// (2019) as above; extra beats are deleted, a missed beat is inserted halfway between
/// its neighbours, and ectopic and long/short beats are moved halfway between their
/// neighbours (positions truncated to whole samples). Classification and correction
/// repeat while the number of abnormal beats keeps falling. Intervals are taken in
/// seconds, as NeuroKit2 takes them, so that values landing exactly on a threshold
/// are classified the same way; the result equals NeuroKit2's sample for sample.
///
/// Unlike [`classify`], which rejects intervals and never invents a beat, this
/// interpolates: the corrected series is what NeuroKit2 reports and computes HRV from,
/// so it serves comparisons with NeuroKit2 and offline analyses that want its
/// convention. As in NeuroKit2, the first two beats are never moved and no beat is
/// inserted before the third.
pub fn correct_beats(beats: &[u64], fs: f64) -> Vec<u64> {
    let found = |b: &[u64]| {
        let x: Vec<f64> = b
            .windows(2)
            .map(|w| (w[1] as f64 - w[0] as f64) / fs)
            .collect();
        find_artifacts(&x)
    };
    let mut artifacts = found(beats);
    let mut out = apply_corrections(&artifacts, beats);
    loop {
        let next = found(&out);
        if next.len() >= artifacts.len() {
            break;
        }
        out = apply_corrections(&next, &out);
        artifacts = next;
    }
    out
}

/// NeuroKit2's `_correct_artifacts`: deletes extra beats, inserts missed ones, then
/// moves ectopic and then long/short beats, keeping the indices of the later classes
/// pointing at the same beats as beats are deleted and inserted.
fn apply_corrections(artifacts: &[(usize, RrStatus)], beats: &[u64]) -> Vec<u64> {
    let of = |kind: RrStatus| -> Vec<usize> {
        artifacts
            .iter()
            .filter(|a| a.1 == kind)
            .map(|a| a.0)
            .collect()
    };
    let extra = of(RrStatus::Extra);
    let mut missed = of(RrStatus::Missed);
    let mut ectopic = of(RrStatus::Ectopic);
    let mut longshort = of(RrStatus::LongShort);
    // every index above a source index moves by `delta`; the result sorted and unique
    let update = |sources: &[usize], idx: &mut Vec<usize>, delta: isize| {
        if idx.is_empty() {
            return;
        }
        for &s in sources {
            for u in idx.iter_mut() {
                if *u > s {
                    *u = u.saturating_add_signed(delta);
                }
            }
        }
        idx.sort_unstable();
        idx.dedup();
    };
    let mut peaks = beats.to_vec();
    if !extra.is_empty() {
        peaks = peaks
            .iter()
            .enumerate()
            .filter(|(i, _)| !extra.contains(i))
            .map(|(_, p)| *p)
            .collect();
        update(&extra, &mut missed, -1);
        update(&extra, &mut ectopic, -1);
        update(&extra, &mut longshort, -1);
    }
    if !missed.is_empty() {
        let valid: Vec<usize> = missed
            .iter()
            .copied()
            .filter(|&i| i > 1 && i < peaks.len())
            .collect();
        // each new beat goes in before the beat that ends the long interval
        let mut with = Vec::with_capacity(peaks.len() + valid.len());
        for (i, &p) in peaks.iter().enumerate() {
            for _ in valid.iter().filter(|&&m| m == i) {
                with.push(peaks[i - 1] + p.saturating_sub(peaks[i - 1]) / 2);
            }
            with.push(p);
        }
        peaks = with;
        update(&missed, &mut ectopic, 1);
        update(&missed, &mut longshort, 1);
    }
    for idx in [&ectopic, &longshort] {
        if idx.is_empty() {
            continue;
        }
        let n = peaks.len();
        let moved: Vec<(usize, u64)> = idx
            .iter()
            .copied()
            .filter(|&i| i > 1 && i + 1 < n)
            .map(|i| {
                (
                    i,
                    peaks[i - 1] + peaks[i + 1].saturating_sub(peaks[i - 1]) / 2,
                )
            })
            .collect();
        let mut next: Vec<u64> = peaks
            .iter()
            .enumerate()
            .filter(|(i, _)| !moved.iter().any(|m| m.0 == *i))
            .map(|(_, p)| *p)
            .collect();
        next.extend(moved.iter().map(|m| m.1));
        next.sort_unstable();
        peaks = next;
    }
    peaks
}

/// The intervals to use and, for each, whether it is successive to the previous kept one.
/// Returns (lengths in ms, flags of length `len - 1`).
pub fn accepted(rr: &[Rr], status: &[RrStatus], tolerance_ms: f64) -> (Vec<f64>, Vec<bool>) {
    let kept: Vec<Rr> = rr
        .iter()
        .zip(status)
        .filter(|(_, s)| **s == RrStatus::Accepted)
        .map(|(r, _)| *r)
        .collect();
    let succ = successive(&kept, tolerance_ms);
    (kept.iter().map(|r| r.ms).collect(), succ)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn series(ms: &[f64]) -> Vec<Rr> {
        let mut t = 0.0;
        ms.iter()
            .map(|&m| {
                t += m / 1000.0;
                Rr { time: t, ms: m }
            })
            .collect()
    }

    #[test]
    fn ectopic_beat_rejects_short_and_compensatory_intervals() {
        let mut ms = vec![800.0; 40];
        for (i, v) in ms.iter_mut().enumerate() {
            *v += 15.0 * ((i as f64) * 0.9).sin();
        }
        ms[20] = 560.0;
        ms[21] = 1040.0;
        for cfg in [
            ArtifactConfig::default(),
            ArtifactConfig {
                lipponen: false,
                ..ArtifactConfig::default()
            },
            ArtifactConfig {
                median_threshold: None,
                ..ArtifactConfig::default()
            },
        ] {
            let st = classify(&series(&ms), &cfg);
            assert_ne!(st[20], RrStatus::Accepted, "{cfg:?}");
            assert_ne!(st[21], RrStatus::Accepted, "{cfg:?}");
            let bad = st.iter().filter(|s| **s != RrStatus::Accepted).count();
            assert!(bad <= 4, "{cfg:?}: {st:?}");
        }
    }

    #[test]
    fn implausible_and_non_finite_intervals_are_rejected_and_break_successions() {
        let mut rr = series(&[800.0, 810.0, 250.0, 790.0, 2500.0, 800.0]);
        rr.push(Rr {
            time: f64::NAN,
            ms: 800.0,
        });
        let st = classify(&rr, &ArtifactConfig::default());
        assert_eq!(st[2], RrStatus::Implausible);
        assert_eq!(st[4], RrStatus::Implausible);
        assert_eq!(st[6], RrStatus::Implausible);
        let none = classify(&rr, &ArtifactConfig::none());
        assert_eq!(
            none[..6]
                .iter()
                .filter(|s| **s == RrStatus::Accepted)
                .count(),
            6
        );
    }

    fn beats_of(ms: &[f64], fs: f64) -> Vec<u64> {
        let mut t = 1.0;
        let mut out = vec![(t * fs) as u64];
        for m in ms {
            t += m / 1000.0;
            out.push((t * fs).round() as u64);
        }
        out
    }

    fn varied(n: usize) -> Vec<f64> {
        (0..n)
            .map(|i| 800.0 + 20.0 * ((i as f64) * 0.9).sin() + 7.0 * ((i as f64) * 2.3).cos())
            .collect()
    }

    /// Expected positions are NeuroKit2 0.2.13's `signal_fixpeaks(beats, 250,
    /// method="Kubios")` on the same series.
    #[test]
    fn correction_moves_ectopic_beat_deletes_extra_and_inserts_missed() {
        let fs = 250.0;
        let clean = beats_of(&varied(60), fs);
        let same_except = |got: &[u64], changed: &[(usize, u64)]| {
            assert_eq!(got.len(), clean.len());
            for (i, (g, c)) in got.iter().zip(&clean).enumerate() {
                let want = changed.iter().find(|k| k.0 == i).map_or(*c, |k| k.1);
                assert_eq!(*g, want, "beat {i}");
            }
        };
        // an ectopic beat 30 % early: it and the beat before the compensatory pause are
        // moved halfway between their neighbours, one after the other
        let mut ectopic = clean.clone();
        ectopic[20] -= (0.3 * (clean[20] - clean[19]) as f64) as u64;
        same_except(&correct_beats(&ectopic, fs), &[(20, 4240), (21, 4423)]);
        // an extra beat is deleted; the next beat, judged long/short beside it, is moved
        // halfway
        let mut extra = clean.clone();
        extra.insert(31, (clean[30] + clean[31]) / 2);
        same_except(&correct_beats(&extra, fs), &[(31, 6458)]);
        // a missed beat is inserted halfway
        let mut missed = clean.clone();
        missed.remove(40);
        same_except(&correct_beats(&missed, fs), &[(40, 8257)]);
        // a clean series, a short one and an empty one are left alone
        assert_eq!(correct_beats(&clean, fs), clean);
        assert_eq!(correct_beats(&clean[..4], fs), &clean[..4]);
        assert!(correct_beats(&[], fs).is_empty());
    }

    #[test]
    fn gaps_are_not_successive() {
        let rr = vec![
            Rr {
                time: 1.0,
                ms: 800.0,
            },
            Rr {
                time: 1.8,
                ms: 800.0,
            },
            Rr {
                time: 5.0,
                ms: 790.0,
            },
            Rr {
                time: 5.81,
                ms: 810.0,
            },
        ];
        assert_eq!(successive(&rr, 10.0), vec![true, false, true]);
        let (kept, succ) = accepted(&rr, &[RrStatus::Accepted; 4], 10.0);
        assert_eq!(kept.len(), 4);
        assert_eq!(succ, vec![true, false, true]);
    }
}
