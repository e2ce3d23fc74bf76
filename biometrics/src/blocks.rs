//! Block-wise zero-phase processing of a sample stream.
//!
//! Zero-phase filters need samples on both sides. A [`Blocks`] buffer hands its owner
//! consecutive *new regions* of `block` samples, each together with `context` samples
//! before and `lookahead` samples after it, so that offline-quality processing (forward-
//! backward filtering, centred smoothing) can run on a live stream with a latency of
//! `block + lookahead` samples. A whole recording pushed at once and a live stream pushed
//! in small chunks are cut into the same blocks, so both give identical results.
//!
//! Runs on the input or control thread.

/// A new region to process: `slice` holds samples `slice_start..slice_start+slice.len()`
/// (absolute indices since the stream's start) and the owner must handle exactly the
/// samples `region.0..region.1` (absolute), using the rest as context.
pub(crate) struct BlockView<'a> {
    pub slice: &'a [f64],
    pub slice_start: u64,
    pub region: (u64, u64),
    pub last: bool,
}

/// The buffer.
#[derive(Clone, Debug)]
pub(crate) struct Blocks {
    block: usize,
    context: usize,
    lookahead: usize,
    buf: Vec<f64>,
    buf_start: u64,
    next: u64,
    total: u64,
    last_valid: f64,
    /// Non-finite samples replaced by the previous finite one.
    pub rejected: u64,
}

impl Blocks {
    /// `block`, `context` and `lookahead` in samples (`block` at least 1).
    pub fn new(block: usize, context: usize, lookahead: usize) -> Self {
        Self {
            block: block.max(1),
            context,
            lookahead,
            buf: Vec::new(),
            buf_start: 0,
            next: 0,
            total: 0,
            last_valid: 0.0,
            rejected: 0,
        }
    }

    /// Samples received so far.
    pub fn total(&self) -> u64 {
        self.total
    }

    /// Appends samples and calls `f` for every region that is now complete.
    pub fn push(&mut self, samples: &[f32], f: &mut dyn FnMut(BlockView<'_>)) {
        for &s in samples {
            let v = s as f64;
            if v.is_finite() {
                self.last_valid = v;
                self.buf.push(v);
            } else {
                self.rejected += 1;
                self.buf.push(self.last_valid);
            }
        }
        self.total += samples.len() as u64;
        while self.total >= self.next + (self.block + self.lookahead) as u64 {
            let end = self.next + self.block as u64;
            self.emit(
                end,
                self.next + (self.block + self.lookahead) as u64,
                false,
                f,
            );
        }
    }

    /// Hands out whatever remains.
    pub fn finish(&mut self, f: &mut dyn FnMut(BlockView<'_>)) {
        while self.next < self.total {
            let end = (self.next + self.block as u64).min(self.total);
            let last = end == self.total;
            self.emit(end, self.total, last, f);
        }
    }

    fn emit(&mut self, end: u64, avail_end: u64, last: bool, f: &mut dyn FnMut(BlockView<'_>)) {
        let from = self
            .next
            .saturating_sub(self.context as u64)
            .max(self.buf_start);
        let a = (from - self.buf_start) as usize;
        let b = (avail_end - self.buf_start) as usize;
        f(BlockView {
            slice: &self.buf[a..b],
            slice_start: from,
            region: (self.next, end),
            last,
        });
        self.next = end;
        // keep `context` samples before the next region
        let keep_from = self.next.saturating_sub(self.context as u64);
        if keep_from > self.buf_start {
            let drop = (keep_from - self.buf_start) as usize;
            self.buf.drain(..drop);
            self.buf_start = keep_from;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunked_and_whole_pushes_cut_the_same_regions() {
        let data: Vec<f32> = (0..1000).map(|i| i as f32).collect();
        let run = |chunks: usize| {
            let mut b = Blocks::new(100, 30, 20);
            let mut seen = Vec::new();
            let mut f = |v: BlockView<'_>| {
                assert_eq!(v.slice[0] as u64, v.slice_start);
                seen.push((v.slice_start, v.slice.len(), v.region));
            };
            for c in data.chunks(chunks) {
                b.push(c, &mut f);
            }
            b.finish(&mut f);
            seen
        };
        let whole = run(1000);
        assert_eq!(whole, run(7));
        assert_eq!(whole.first().unwrap().2, (0, 100));
        assert_eq!(whole.last().unwrap().2 .1, 1000);
        let covered: u64 = whole.iter().map(|w| w.2 .1 - w.2 .0).sum();
        assert_eq!(covered, 1000);
    }

    #[test]
    fn non_finite_samples_are_held_and_counted() {
        let mut b = Blocks::new(4, 0, 0);
        let mut got = Vec::new();
        b.push(&[1.0, f32::NAN, 3.0, f32::INFINITY], &mut |v| {
            got.extend_from_slice(v.slice)
        });
        assert_eq!(got, vec![1.0, 1.0, 3.0, 3.0]);
        assert_eq!(b.rejected, 2);
    }
}
