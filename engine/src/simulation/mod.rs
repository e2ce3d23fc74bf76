//! Simulation of the closed loop: a listener model that responds to the sound, and
//! sessions run against it without audio. Everything here is a model, labelled as such;
//! it compares policies and tests the loop, it measures nobody.

mod closed_loop;
mod listener;
mod run;

pub use closed_loop::ListeningLoop;
pub use listener::{Listener, ListenerParams};
pub use run::{simulate, SimResult, SimSession, Strategy};
