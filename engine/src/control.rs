//! The control side's tick: what decides parameter targets as time passes.

use crate::automation::Automation;
use isochord_dsp::{Command, Key, Param, Scale, SoundscapeConfig};

/// How often the control side decides, per second. Live and offline sessions tick at the
/// same rate, so they make the same decisions at the same moments.
pub const CONTROL_RATE_HZ: f64 = 10.0;

/// Something that steers a soundscape: asked at every control tick for commands.
/// Runs on the control thread (or, offline, on the rendering thread against the virtual
/// clock).
pub trait Controller: Send {
    /// Called at session time `time` seconds; pushes any commands for the soundscape.
    fn tick(&mut self, time: f64, out: &mut Vec<Command>);

    /// Hears what the soundscape played since the last call: `seconds` of output with
    /// mean square `mean_square` (both channels, full scale 1) and peak `peak`. Adaptive
    /// sessions meter the listening dose with it; the default ignores it.
    fn output(&mut self, seconds: f64, mean_square: f64, peak: f32) {
        let _ = (seconds, mean_square, peak);
    }

    /// Events since the last call (decisions and their reasons), for a live display.
    fn take_events(&mut self) -> Vec<crate::policy::SessionEvent> {
        Vec::new()
    }

    /// Takes an event that happened outside the controller (live playback: underruns,
    /// a lost device) so it is logged with the session's own events at its time.
    /// The default drops it. Control thread.
    fn note(&mut self, event: crate::policy::SessionEvent) {
        let _ = event;
    }

    /// Whether events given to [`Controller::note`] come back from
    /// [`Controller::take_events`] (and go into the session's log). The default drops
    /// them.
    fn keeps_notes(&self) -> bool {
        false
    }

    /// A short description of what the controller is doing, for a status line.
    fn status_text(&self) -> Option<String> {
        None
    }

    /// The session ended (completed or stopped) at `time`: write out whatever is kept.
    fn finish(&mut self, time: f64) {
        let _ = time;
    }
}

/// Holds the preset's starting sound: sends nothing.
#[derive(Clone, Copy, Debug, Default)]
pub struct Static;

impl Controller for Static {
    fn tick(&mut self, _time: f64, _out: &mut Vec<Command>) {}
}

/// Plays an [`Automation`] file: at each tick sends the parameters whose interpolated
/// value changed, and key changes once their moment has come.
#[derive(Clone, Debug)]
pub struct AutomationController {
    automation: Automation,
    start: [f32; isochord_dsp::PARAM_COUNT],
    last: [f32; isochord_dsp::PARAM_COUNT],
    next_key: usize,
    key: (Key, Scale),
}

impl AutomationController {
    /// Plays `automation` over a soundscape that starts as `config` says: the sound as
    /// it plays, for a seed ([`SoundscapeConfig::for_seed`]), so a row that gives only
    /// a scale keeps the seed's key. Control thread.
    pub fn new(automation: Automation, config: &SoundscapeConfig) -> Self {
        let start = core::array::from_fn(|i| config.start_value(Param::ALL[i]));
        Self {
            automation,
            start,
            last: [f32::NAN; isochord_dsp::PARAM_COUNT],
            next_key: 0,
            key: (config.key, config.scale),
        }
    }
}

impl Controller for AutomationController {
    fn tick(&mut self, time: f64, out: &mut Vec<Command>) {
        for track in &self.automation.tracks {
            let i = track.param.index();
            if let Some(v) = self.automation.value_at(track.param, time, self.start[i]) {
                if v != self.last[i] {
                    self.last[i] = v;
                    out.push(Command::Set(track.param, v));
                }
            }
        }
        while let Some(change) = self.automation.key_changes.get(self.next_key) {
            if change.time > time {
                break;
            }
            self.next_key += 1;
            // a row may give only the key or only the scale: keep the other
            self.key = (
                change.key.unwrap_or(self.key.0),
                change.scale.unwrap_or(self.key.1),
            );
            out.push(Command::Key(self.key.0, self.key.1));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    #[test]
    fn a_scale_change_keeps_the_seeds_key() {
        let mut sound = SoundscapeConfig {
            key: Key::new(9),
            ..Default::default()
        };
        sound.harmony.seed_transpose = vec![0, 3];
        let text = "time,scale\n0,dorian\n10,major\n";
        let automation = Automation::parse(text, Path::new("arc.csv")).unwrap();
        let mut ctl = AutomationController::new(automation, &sound.for_seed(1));
        let mut out = Vec::new();
        ctl.tick(11.0, &mut out);
        let keys: Vec<(Key, Scale)> = out
            .iter()
            .filter_map(|c| match c {
                Command::Key(k, s) => Some((*k, *s)),
                _ => None,
            })
            .collect();
        // A moved up a minor third is C
        assert_eq!(keys.last(), Some(&(Key::new(0), Scale::Major)), "{keys:?}");
    }
}
