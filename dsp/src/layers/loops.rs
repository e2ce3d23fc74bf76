//! The loops layer: recorded loops and textures, chosen and steered by the parameters.

use super::Block;
use crate::config::LoopsConfig;
use crate::content::LoopItem;
use crate::ladder::Ladder;
use crate::loop_player::LoopPlayer;
use crate::music::{Key, Scale};
use crate::MAX_BLOCK;
use std::sync::Arc;

/// The most items the layer chooses from.
pub const MAX_ITEMS: usize = 16;

/// Plays up to `layers` of its items at once. Density decides how many (one at density 0,
/// all `layers` at 1); brightness and energy decide which: the items whose own brightness
/// and energy (from the library) are nearest the soundscape's. The choice is made at bar
/// lines, changes at most every `switch_bars` bars unless the count changes, and each
/// change is a crossfade over `crossfade_s`. Brightness also sets a low-pass on the layer.
/// Only items that fit the key play: untuned ones always, tuned ones while the key and
/// scale are ones they need no transposing for ([`LoopItem::fits`]); a key change fades
/// out those that no longer fit, and a chord they would rub against (a minor ninth)
/// makes them sit out until the next chord they fit. Built off the audio thread;
/// rendering allocates nothing.
#[derive(Debug)]
pub struct Loops {
    players: Vec<LoopPlayer>,
    gain: Vec<f32>,
    chosen: Vec<bool>,
    /// Whether each item fits the key sounding and the chord.
    fits: Vec<bool>,
    /// Whether each item fits the key sounding.
    key_fits: Vec<bool>,
    /// Whether each item fits the chord sounding.
    chord_fits: Vec<bool>,
    /// The key changed: choose again at the next block.
    refit: bool,
    order: [usize; MAX_ITEMS],
    layers: usize,
    switch_bars: u32,
    bars_since_switch: u32,
    fade_per_s: f32,
    cutoff: (f32, f32),
    filter: Ladder,
    sample_rate: f32,
    scratch_l: [f32; MAX_BLOCK],
    scratch_r: [f32; MAX_BLOCK],
}

impl Loops {
    /// The layer for `items` (at most [`MAX_ITEMS`] are used) at `sample_rate` in `key`,
    /// its first choice made for `brightness`, `energy` and `density` (`start`).
    pub fn new(
        cfg: &LoopsConfig,
        items: &[Arc<LoopItem>],
        sample_rate: f32,
        key: (Key, Scale),
        start: (f32, f32, f32),
    ) -> Self {
        let items = &items[..items.len().min(MAX_ITEMS)];
        let players: Vec<LoopPlayer> = items
            .iter()
            .map(|i| LoopPlayer::new(Arc::clone(i), sample_rate))
            .collect();
        let n = players.len();
        let mut s = Self {
            players,
            gain: vec![0.0; n],
            chosen: vec![false; n],
            fits: items.iter().map(|i| i.fits(key.0, key.1)).collect(),
            key_fits: items.iter().map(|i| i.fits(key.0, key.1)).collect(),
            chord_fits: vec![true; n],
            refit: false,
            order: core::array::from_fn(|i| i),
            layers: cfg.layers.clamp(1, 4),
            switch_bars: cfg.switch_bars.max(1),
            bars_since_switch: 0,
            fade_per_s: 1.0 / cfg.crossfade_s.max(0.05),
            cutoff: (cfg.cutoff_min_hz, cfg.cutoff_max_hz),
            filter: Ladder::new(sample_rate),
            sample_rate,
            scratch_l: [0.0; MAX_BLOCK],
            scratch_r: [0.0; MAX_BLOCK],
        };
        let (brightness, energy, density) = start;
        s.choose(brightness, energy, density, true);
        for (g, c) in s.gain.iter_mut().zip(&s.chosen) {
            *g = if *c { 1.0 } else { 0.0 };
        }
        s
    }

    /// How many items it can choose from.
    pub fn items(&self) -> usize {
        self.players.len()
    }

    /// Frames of streamed items that had not arrived when due (played as silence), over
    /// all items since the layer was built. Any thread that owns the layer.
    pub fn stream_missing_frames(&self) -> u64 {
        self.players.iter().map(LoopPlayer::missing_frames).sum()
    }

    /// How many items sound now.
    pub fn sounding(&self) -> usize {
        self.gain.iter().filter(|g| **g > 0.0).count()
    }

    /// The ids of the items chosen now.
    pub fn chosen(&self) -> impl Iterator<Item = &str> {
        self.players
            .iter()
            .zip(&self.chosen)
            .filter(|(_, c)| **c)
            .map(|(p, _)| p.item().id.as_str())
    }

    /// The key changed (at a bar line): items that no longer fit fade out, others may
    /// take their place. Audio thread.
    pub fn change_key(&mut self, key: Key, scale: Scale) {
        for (f, p) in self.key_fits.iter_mut().zip(&self.players) {
            *f = p.item().fits(key, scale);
        }
        self.update_fits();
    }

    /// A new chord (at a bar line), its pitch classes the bits of `chord_mask`: tuned
    /// items that would rub against it sit out until a chord they fit. Audio thread.
    pub fn change_chord(&mut self, chord_mask: u16) {
        for (f, p) in self.chord_fits.iter_mut().zip(&self.players) {
            *f = p.item().fits_chord(chord_mask);
        }
        self.update_fits();
    }

    fn update_fits(&mut self) {
        let mut changed = false;
        for ((f, k), c) in self
            .fits
            .iter_mut()
            .zip(&self.key_fits)
            .zip(&self.chord_fits)
        {
            let now = *k && *c;
            changed |= now != *f;
            *f = now;
        }
        self.refit |= changed;
    }

    /// How many items density asks for, with hysteresis around the current count.
    fn count_for(&self, density: f32) -> usize {
        let current = self.chosen.iter().filter(|c| **c).count().max(1);
        let at = |d: f32| (1 + (d.clamp(0.0, 1.0) * self.layers as f32) as usize).min(self.layers);
        let up = at(density - 0.05);
        let down = at(density + 0.05);
        if up > current {
            up
        } else if down < current {
            down
        } else {
            current
        }
        .min(self.fits.iter().filter(|f| **f).count())
    }

    fn choose(&mut self, brightness: f32, energy: f32, density: f32, force: bool) {
        let n = self.players.len();
        if n == 0 {
            return;
        }
        let count = self.count_for(density);
        let current = self.chosen.iter().filter(|c| **c).count();
        if !force && count == current && self.bars_since_switch < self.switch_bars {
            return;
        }
        let order = &mut self.order[..n];
        for (i, o) in order.iter_mut().enumerate() {
            *o = i;
        }
        let players = &self.players;
        let chosen = &self.chosen;
        let fits = &self.fits;
        let distance = |i: usize| {
            if !fits[i] {
                return f32::INFINITY; // last, never chosen
            }
            let it = players[i].item();
            let d = (it.brightness - brightness).powi(2) + (it.energy - energy).powi(2);
            // a small preference for what plays, so near-ties do not flip
            if chosen[i] {
                d - 0.01
            } else {
                d
            }
        };
        order.sort_unstable_by(|a, b| distance(*a).total_cmp(&distance(*b)));
        let mut changed = false;
        for (rank, &i) in order.iter().enumerate() {
            let want = rank < count && self.fits[i];
            changed |= want != self.chosen[i];
            self.chosen[i] = want;
        }
        if changed {
            self.bars_since_switch = 0;
        }
    }

    /// Renders one block into `left`/`right` (overwriting). Audio thread.
    pub fn render(&mut self, b: &Block, left: &mut [f32], right: &mut [f32]) {
        let n = b.frames;
        left[..n].fill(0.0);
        right[..n].fill(0.0);
        if self.players.is_empty() {
            return;
        }
        if self.refit {
            self.refit = false;
            self.choose(b.brightness, b.energy, b.density, true);
        }
        if let Some(beat) = b.beat {
            if beat % 4 == 0 {
                self.bars_since_switch = self.bars_since_switch.saturating_add(1);
                self.choose(b.brightness, b.energy, b.density, false);
            }
        }
        let dt = n as f32 / self.sample_rate;
        let to_next_beat = ((b.beat_pos.floor() + 1.0 - b.beat_pos) * 60.0
            / b.tempo.max(1.0) as f64
            * self.sample_rate as f64) as f32;
        let inv_n = 1.0 / n as f32;
        for (i, p) in self.players.iter_mut().enumerate() {
            let g0 = self.gain[i];
            let target = if self.chosen[i] { 1.0 } else { 0.0 };
            let g1 = if target > g0 {
                (g0 + self.fade_per_s * dt).min(1.0)
            } else {
                (g0 - self.fade_per_s * dt).max(0.0)
            };
            self.gain[i] = g1;
            if g0 == 0.0 && g1 == 0.0 {
                if p.sounding() {
                    p.stop();
                }
                continue;
            }
            let (sl, sr) = (&mut self.scratch_l[..n], &mut self.scratch_r[..n]);
            sl.fill(0.0);
            sr.fill(0.0);
            p.render_add(b.tempo, b.beat, to_next_beat, sl, sr);
            let dg = (g1 - g0) * inv_n;
            let mut g = g0;
            for ((o, q), (x, y)) in left[..n]
                .iter_mut()
                .zip(right[..n].iter_mut())
                .zip(sl.iter().zip(sr.iter()))
            {
                g += dg;
                // equal-power crossfade shape
                let w = (g * core::f32::consts::FRAC_PI_2).sin();
                *o += x * w;
                *q += y * w;
            }
        }
        let (lo, hi) = self.cutoff;
        let cutoff = lo * (hi / lo.max(1.0)).powf(b.brightness.clamp(0.0, 1.0));
        self.filter
            .process(&mut left[..n], &mut right[..n], cutoff, 0.4);
    }

    /// Silences everything (after a NaN, say).
    pub fn reset(&mut self) {
        self.filter.reset();
        for p in self.players.iter_mut() {
            p.stop();
        }
    }
}
