//! Pacing: session clocks and [`Replay`], which releases a file source's items when
//! their time has come.
//!
//! Live, a [`Replay`] over a [`WallClock`] runs on an input thread and plays a recording
//! back at its recorded pace (or faster, with [`WallClock::with_speed`]). Offline, the
//! control thread advances a [`VirtualClock`] tick by tick and takes what is due with
//! [`Replay::due`]: no waiting at all, so an hour of data replays as fast as the
//! session renders.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::source::{Pull, Source, SourceInfo, SourceIssue};
use crate::signal::SensorData;

/// Session time, seconds. Shared between the thread that advances it and those that read
/// it; cheap to call from the input and control threads.
pub trait Clock: Send + Sync {
    /// The current session time, seconds.
    fn now(&self) -> f64;

    /// Waits until session time `t` or for `max`, whichever comes first (it may return
    /// earlier). A virtual clock cannot be waited on; it naps briefly instead.
    fn wait_until(&self, t: f64, max: Duration);
}

impl<C: Clock + ?Sized> Clock for Arc<C> {
    fn now(&self) -> f64 {
        (**self).now()
    }
    fn wait_until(&self, t: f64, max: Duration) {
        (**self).wait_until(t, max)
    }
}

/// Real time since a starting instant, optionally sped up.
#[derive(Clone, Copy, Debug)]
pub struct WallClock {
    start: Instant,
    speed: f64,
}

impl WallClock {
    /// A clock whose session time is 0 now.
    pub fn start_now() -> Self {
        Self::starting_at(Instant::now())
    }

    /// A clock whose session time is 0 at `start` (share one start between every source
    /// of a session).
    pub fn starting_at(start: Instant) -> Self {
        Self { start, speed: 1.0 }
    }

    /// The same clock running `speed` times faster than real time (`speed` > 0; replays
    /// at 10× for a quick look at a recording).
    pub fn with_speed(mut self, speed: f64) -> Self {
        assert!(
            speed.is_finite() && speed > 0.0,
            "clock speed must be positive"
        );
        self.speed = speed;
        self
    }

    /// The instant at which session time is 0.
    pub fn start(&self) -> Instant {
        self.start
    }
}

impl Clock for WallClock {
    fn now(&self) -> f64 {
        self.start.elapsed().as_secs_f64() * self.speed
    }

    fn wait_until(&self, t: f64, max: Duration) {
        let ahead = (t - self.now()) / self.speed;
        if ahead > 0.0 {
            std::thread::sleep(Duration::from_secs_f64(ahead.min(max.as_secs_f64())));
        }
    }
}

/// A clock set by hand: offline sessions advance it by one control tick at a time.
/// Clones share the same time.
#[derive(Clone, Debug, Default)]
pub struct VirtualClock(Arc<AtomicU64>);

impl VirtualClock {
    /// A clock at session time 0.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the session time.
    pub fn set(&self, t: f64) {
        self.0.store(t.to_bits(), Ordering::Release);
    }

    /// Moves the session time forward by `dt` seconds (single writer assumed).
    pub fn advance(&self, dt: f64) {
        self.set(self.now() + dt);
    }
}

impl Clock for VirtualClock {
    fn now(&self) -> f64 {
        f64::from_bits(self.0.load(Ordering::Acquire))
    }

    fn wait_until(&self, t: f64, max: Duration) {
        if self.now() < t {
            std::thread::sleep(max.min(Duration::from_millis(1)));
        }
    }
}

/// The session time at which an item is complete and may be released: a reading's time,
/// or the end of a waveform chunk (its last sample plus one period).
pub fn ready_at(item: &SensorData) -> f64 {
    match item {
        SensorData::Reading(r) => r.time,
        SensorData::Waveform(w) => {
            if w.rate > 0.0 {
                w.start + w.samples.len() as f64 / w.rate
            } else {
                w.start
            }
        }
    }
}

/// Releases a source's items when `clock` reaches their [`ready_at`] time. Issues are
/// released at once. Holds at most one item ahead.
#[derive(Debug)]
pub struct Replay<S, C> {
    source: S,
    clock: C,
    held: Option<SensorData>,
    ended: bool,
}

impl<S: Source, C: Clock> Replay<S, C> {
    /// Paces `source` by `clock`.
    pub fn new(source: S, clock: C) -> Self {
        Self {
            source,
            clock,
            held: None,
            ended: false,
        }
    }

    /// The next item whose time has come, or an issue; `None` when nothing is due yet (or
    /// the source has ended). Never waits: for the control thread of an offline session.
    pub fn due(&mut self) -> Option<Result<SensorData, SourceIssue>> {
        if self.held.is_none() && !self.ended {
            match self.source.pull(Duration::ZERO) {
                Pull::Data(d) => self.held = Some(d),
                Pull::Issue(i) => return Some(Err(i)),
                Pull::Pending => return None,
                Pull::End => self.ended = true,
            }
        }
        let now = self.clock.now();
        match &self.held {
            Some(d) if ready_at(d) <= now => self.held.take().map(Ok),
            _ => None,
        }
    }

    /// Appends everything due now to `out` (see [`Replay::due`]).
    pub fn drain_due(&mut self, out: &mut Vec<Result<SensorData, SourceIssue>>) {
        while let Some(x) = self.due() {
            out.push(x);
        }
    }

    /// When the next held item becomes due, if one is held.
    pub fn next_due_time(&self) -> Option<f64> {
        self.held.as_ref().map(ready_at)
    }

    /// The source is exhausted and everything has been released.
    pub fn is_finished(&self) -> bool {
        self.ended && self.held.is_none()
    }

    /// The clock.
    pub fn clock(&self) -> &C {
        &self.clock
    }

    /// The paced source.
    pub fn get_mut(&mut self) -> &mut S {
        &mut self.source
    }
}

impl<S: Source, C: Clock> Source for Replay<S, C> {
    fn info(&self) -> SourceInfo {
        SourceInfo {
            live: true,
            ..self.source.info()
        }
    }

    /// Waits (up to `wait`) for the next item to come due.
    fn pull(&mut self, wait: Duration) -> Pull {
        let deadline = Instant::now() + wait;
        loop {
            if let Some(x) = self.due() {
                return match x {
                    Ok(d) => Pull::Data(d),
                    Err(i) => Pull::Issue(i),
                };
            }
            if self.is_finished() {
                return Pull::End;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Pull::Pending;
            }
            match self.next_due_time() {
                Some(t) => self.clock.wait_until(t, left),
                // A live source inside: it returned Pending; let it wait next time.
                None => std::thread::sleep(left.min(Duration::from_millis(1))),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::signal::{Reading, Value, WaveKind, Waveform};
    use crate::sources::VecSource;

    fn hr(t: f64) -> SensorData {
        SensorData::Reading(Reading {
            time: t,
            value: Value::HeartRate(60.0),
        })
    }

    #[test]
    fn virtual_clock_releases_items_when_due_and_never_waits() {
        let wave = SensorData::Waveform(Waveform {
            kind: WaveKind::Ppg,
            start: 0.5,
            rate: 4.0,
            samples: vec![0.0; 4],
        });
        let src = VecSource::from_data("m", vec![hr(0.0), wave.clone(), hr(1.2), hr(5.0)]);
        let clock = VirtualClock::new();
        let mut r = Replay::new(src, clock.clone());
        let mut out = Vec::new();
        r.drain_due(&mut out);
        assert_eq!(out, vec![Ok(hr(0.0))]);
        out.clear();
        clock.set(1.4);
        r.drain_due(&mut out);
        assert!(out.is_empty(), "the chunk ends at 1.5 s: not complete yet");
        assert_eq!(r.next_due_time(), Some(1.5));
        clock.set(1.5);
        r.drain_due(&mut out);
        assert_eq!(out, vec![Ok(wave), Ok(hr(1.2))]);
        out.clear();
        clock.set(100.0);
        r.drain_due(&mut out);
        assert_eq!(out, vec![Ok(hr(5.0))]);
        assert!(r.due().is_none());
        assert!(r.is_finished());
    }

    #[test]
    fn wall_clock_replay_keeps_the_recorded_pace() {
        let src = VecSource::from_data("m", vec![hr(0.0), hr(0.05), hr(0.10)]);
        let clock = WallClock::start_now();
        let mut r = Replay::new(src, clock);
        let mut times = Vec::new();
        loop {
            match r.pull(Duration::from_millis(20)) {
                Pull::Data(_) => times.push(clock.now()),
                Pull::Pending => {}
                Pull::End => break,
                Pull::Issue(i) => panic!("{i}"),
            }
        }
        assert_eq!(times.len(), 3);
        assert!(times[2] >= 0.10, "released at {times:?}");
        assert!(times[2] < 1.0, "released at {times:?}");
    }

    #[test]
    fn sped_up_clock_runs_faster() {
        let c = WallClock::start_now().with_speed(1000.0);
        std::thread::sleep(Duration::from_millis(5));
        assert!(c.now() >= 5.0);
    }
}
