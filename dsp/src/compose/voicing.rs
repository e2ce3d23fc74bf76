//! Voice leading: placing a chord's tones on the pad's voices so that common tones are
//! held and the other voices move the least distance.

use super::harmony::Chord;

/// Upper voices (the bass is voiced apart).
pub const UPPER: usize = 6;

/// Where each upper voice sits (MIDI notes) and how many sound.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Voicing {
    /// The bass note, MIDI.
    pub bass: f32,
    /// Upper voices, MIDI; `upper[..count]` sound.
    pub upper: [f32; UPPER],
    /// How many upper voices sound.
    pub count: usize,
}

/// The pitch classes the upper voices take, for `count` voices: the third first (the bass
/// has the root), then the colour tones, the fifth and the root; doubled in that order
/// when there are more voices than tones.
fn wanted(chord: &Chord, count: usize) -> [i32; UPPER] {
    let t = chord.tones();
    let mut order = [0i32; 8];
    let mut n = 0;
    // third (or suspension), seventh, colour, sixth or eleventh, fifth, root
    for &i in &[2usize, 3, 4, 5, 1, 0] {
        if i < t.len() {
            order[n] = t[i];
            n += 1;
        }
    }
    let mut out = [0; UPPER];
    for (k, o) in out.iter_mut().enumerate().take(count) {
        *o = (chord.root + order[k % n]).rem_euclid(12);
    }
    out
}

/// The pitch of class `pc` nearest to `near` inside `lo..=hi`.
fn nearest(pc: i32, near: f32, lo: i32, hi: i32) -> i32 {
    let near_i = near.round() as i32;
    let base = near_i - (near_i - pc).rem_euclid(12);
    let mut best = i32::MAX;
    for cand in [base - 12, base, base + 12, base + 24] {
        if cand < lo || cand > hi {
            continue;
        }
        if best == i32::MAX || (cand as f32 - near).abs() < (best as f32 - near).abs() {
            best = cand;
        }
    }
    if best == i32::MAX {
        // the range is narrower than an octave: the nearest in it
        let mut c = lo + (pc - lo).rem_euclid(12);
        if c > hi {
            c -= 12;
        }
        best = c;
    }
    best
}

/// Voices `chord` on `count` upper voices (1..=6) inside `lo..=hi` (MIDI), moving each
/// from its place in `previous` the least distance in all: every assignment of the
/// wanted pitch classes to voices is tried (at most 720) and scored by total motion, with
/// penalties for unisons, crossed voices and close intervals low down (mud). The bass is
/// the chord's bass pitch class nearest `bass_home`, the tonic of the bass octave (chords
/// count their pitches from it). No allocation.
pub fn lead(
    chord: &Chord,
    count: usize,
    previous: &Voicing,
    bass_home: i32,
    lo: i32,
    hi: i32,
) -> Voicing {
    let count = count.clamp(1, UPPER);
    // chords count semitones from the tonic, which is the bass home's pitch class
    let tonic = bass_home.rem_euclid(12);
    let bass = nearest(
        (tonic + chord.bass).rem_euclid(12),
        bass_home as f32,
        bass_home - 5,
        bass_home + 6,
    ) as f32;
    let mut pcs = wanted(chord, count);
    for p in pcs.iter_mut() {
        *p = (*p + tonic).rem_euclid(12);
    }
    let mut perm: [usize; UPPER] = core::array::from_fn(|i| i);
    let mut best_cost = f32::INFINITY;
    let mut best = [0i32; UPPER];
    let mut cand = [0i32; UPPER];
    let mut evaluate = |perm: &[usize; UPPER]| {
        for v in 0..count {
            cand[v] = nearest(pcs[perm[v]], previous.upper[v], lo, hi);
        }
        let mut cost = 0.0;
        for v in 0..count {
            cost += (cand[v] as f32 - previous.upper[v]).abs();
            // an upper voice on the bass is lost in it; on its octave, it thins the chord
            if (cand[v] as f32 - bass).abs() < 0.5 {
                cost += 6.0;
            } else if (cand[v] as f32 - bass - 12.0).abs() < 0.5 {
                cost += 2.5;
            }
            for w in v + 1..count {
                let gap = (cand[v] - cand[w]).abs();
                if gap == 0 {
                    cost += 8.0;
                }
                // voices keep their order
                let before = previous.upper[v] < previous.upper[w];
                if before != (cand[v] < cand[w]) && gap != 0 {
                    cost += 1.5;
                }
                // seconds and thirds below G3 sound muddy
                if cand[v].min(cand[w]) < 55 && gap <= 4 {
                    cost += 3.0;
                }
            }
        }
        if cost < best_cost {
            best_cost = cost;
            best = cand;
        }
    };
    // Heap's algorithm over the first `count` positions
    let mut c = [0usize; UPPER];
    evaluate(&perm);
    let mut i = 1;
    while i < count {
        if c[i] < i {
            if i % 2 == 0 {
                perm.swap(0, i);
            } else {
                perm.swap(c[i], i);
            }
            evaluate(&perm);
            c[i] += 1;
            i = 1;
        } else {
            c[i] = 0;
            i += 1;
        }
    }
    let mut upper = previous.upper;
    for v in 0..count {
        upper[v] = best[v] as f32;
    }
    Voicing { bass, upper, count }
}

/// A first voicing's starting places: upper voices spread a fifth and more above the
/// bass, so the first chord is voiced open from the bottom up.
pub fn initial(bass_home: i32, lo: i32) -> Voicing {
    let mut upper = [0.0; UPPER];
    for (k, u) in upper.iter_mut().enumerate() {
        *u = (lo + 5 * k as i32) as f32;
    }
    Voicing {
        bass: bass_home as f32,
        upper,
        count: 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::music::Scale;

    fn pcs(v: &Voicing) -> Vec<i32> {
        let mut p: Vec<i32> = v.upper[..v.count]
            .iter()
            .map(|x| (*x as i32).rem_euclid(12))
            .collect();
        p.sort();
        p
    }

    #[test]
    fn common_tones_are_held_and_others_move_by_step() {
        // C major: I → IV → V → I in four voices, bass on C2
        let chord = |d| Chord::build(Scale::Major, d, 1, false, false);
        let mut v = lead(&chord(0), 3, &initial(36, 48), 36, 48, 72);
        assert_eq!(pcs(&v), vec![0, 4, 7]);
        assert_eq!(v.bass, 36.0);
        for d in [3, 4, 0, 5, 3] {
            let next = lead(&chord(d), 3, &v, 36, 48, 72);
            let motion: f32 = (0..3).map(|k| (next.upper[k] - v.upper[k]).abs()).sum();
            // three voices moving between neighbouring triads: at most 6 semitones in all
            assert!(motion <= 6.0, "{d}: {:?} → {:?}", v.upper, next.upper);
            let c = chord(d);
            for k in 0..3 {
                assert!(c.contains(next.upper[k] as i32), "{d}: {:?}", next.upper);
                // common tones stay put
                if c.contains(v.upper[k] as i32) {
                    assert_eq!(next.upper[k], v.upper[k], "{d}");
                }
            }
            assert!(next.bass >= 31.0 && next.bass <= 42.0);
            v = next;
        }
    }

    #[test]
    fn voices_stay_in_range_and_cover_the_chord() {
        let c = Chord::build(Scale::Major, 1, 3, false, false);
        let v = lead(&c, 6, &initial(38, 50), 38, 50, 76);
        for u in &v.upper[..6] {
            assert!((50.0..=76.0).contains(u), "{:?}", v.upper);
        }
        let p = pcs(&v);
        for t in c.tones() {
            assert!(p.contains(&((2 + c.root + t).rem_euclid(12))), "{p:?}");
        }
    }
}
