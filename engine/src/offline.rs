//! Offline rendering: the same control ticks and DSP as a live session, against a
//! virtual clock, as fast as the CPU allows and bit-for-bit repeatable.

use crate::control::{Controller, CONTROL_RATE_HZ};
use isochord_dsp::{Command, Content, Meter, Soundscape, SoundscapeConfig};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// Fade-out used when a render is stopped early (Ctrl-C).
pub const STOP_FADE_S: f32 = 2.0;

/// What to render.
pub struct OfflineSession {
    /// The sound.
    pub config: SoundscapeConfig,
    /// Recorded content it plays (see [`crate::content::ContentLibrary::load_for`]);
    /// [`Content::none`] for a synthesised soundscape.
    pub content: Content,
    /// Output rate, Hz.
    pub sample_rate: u32,
    /// Seed of every random choice (same seed, same file).
    pub seed: u64,
    /// Length, fade-out included.
    pub duration: Duration,
    /// What steers it.
    pub controller: Box<dyn Controller>,
}

/// What a render produced.
#[derive(Clone, Debug)]
pub struct RenderOutcome {
    /// Stereo frames delivered.
    pub frames: u64,
    /// Output meter over the whole render.
    pub meter: Meter,
    /// Whether it was stopped early (and faded out).
    pub interrupted: bool,
    /// Makeup gain the loudness calibration chose.
    pub makeup: f32,
    /// Commands the controller sent.
    pub commands: u64,
    /// Frames of streamed recordings that were missing and played as silence (see
    /// [`Soundscape::stream_missing_frames`]); non-zero only when a stream failed, as
    /// offline renders top streams up on their own clock.
    pub stream_missing_frames: u64,
}

impl OfflineSession {
    /// Total frames for the full duration.
    pub fn total_frames(&self) -> u64 {
        (self.duration.as_secs_f64() * self.sample_rate as f64).round() as u64
    }

    /// Renders the session, handing interleaved stereo to `write` one control tick
    /// (100 ms) at a time. If `stop` becomes true it fades out over
    /// [`STOP_FADE_S`] and ends early. `progress` hears `(frames done, frames total)`.
    pub fn render<E>(
        mut self,
        mut write: impl FnMut(&[f32]) -> Result<(), E>,
        stop: &AtomicBool,
        mut progress: impl FnMut(u64, u64),
    ) -> Result<RenderOutcome, E> {
        let sr = self.sample_rate as f64;
        let mut total = self.total_frames();
        let mut scape = Soundscape::with_content(
            &self.config,
            &self.content,
            self.sample_rate as f32,
            self.seed,
        );
        let fade_s = self
            .config
            .master
            .fade_out_s
            .min(self.duration.as_secs_f32() / 3.0);
        let fade_start = total.saturating_sub((fade_s as f64 * sr).round() as u64);
        let mut fading = false;
        let mut interrupted = false;
        let tick_frames = (sr / CONTROL_RATE_HZ).ceil() as usize;
        let mut buf = vec![0.0f32; 2 * tick_frames];
        let mut cmds: Vec<Command> = Vec::with_capacity(64);
        let mut meter = Meter::default();
        let mut done = 0u64;
        let mut tick = 0u64;
        let mut next_tick = 0u64;
        let mut commands = 0u64;
        let streaming = self.content.loops.iter().any(|l| l.stream.is_some());
        while done < total {
            if !interrupted && stop.load(Ordering::Relaxed) {
                interrupted = true;
                let stop_frames = (STOP_FADE_S as f64 * sr).round() as u64;
                if total - done > stop_frames {
                    total = done + stop_frames;
                    scape.fade_out(STOP_FADE_S);
                    fading = true;
                }
            }
            if done == next_tick {
                if streaming {
                    // streamed recordings are topped up on the virtual clock, so the
                    // render never depends on how fast a feeder thread runs
                    for stream in self.content.loops.iter().filter_map(|l| l.stream.as_ref()) {
                        stream.pump();
                    }
                }
                cmds.clear();
                self.controller.tick(done as f64 / sr, &mut cmds);
                for c in &cmds {
                    scape.apply(*c);
                }
                commands += cmds.len() as u64;
                tick += 1;
                next_tick = (tick as f64 * sr / CONTROL_RATE_HZ).round() as u64;
            }
            if !fading && done >= fade_start {
                scape.fade_out(((total - done) as f64 / sr) as f32);
                fading = true;
            }
            let mut end = next_tick.min(total);
            if !fading && fade_start > done {
                end = end.min(fade_start);
            }
            let frames = (end - done) as usize;
            let out = &mut buf[..2 * frames];
            scape.render(out);
            write(out)?;
            done = end;
            let m = scape.take_meter();
            if m.frames > 0 {
                let ms = m.sum_sq / (2 * m.frames) as f64;
                self.controller.output(m.frames as f64 / sr, ms, m.peak);
            }
            meter.merge(&m);
            if scape.faded_out() && done < total {
                // the controller faded the session out early (a sleep fade on calm)
                total = done;
            }
            progress(done, total);
        }
        self.controller.finish(done as f64 / sr);
        Ok(RenderOutcome {
            frames: done,
            meter,
            interrupted,
            makeup: scape.makeup(),
            commands,
            stream_missing_frames: scape.stream_missing_frames(),
        })
    }
}
