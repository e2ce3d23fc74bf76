//! Calls into the audio system with a time limit: a sound server that stopped answering
//! must not hang the control thread.

use std::time::Duration;

/// How long opening, querying or closing a device may take.
pub(crate) const AUDIO_CALL_LIMIT: Duration = Duration::from_secs(3);

/// Runs `f` on a helper thread and waits at most `limit` for its result. `None` if it
/// did not finish in time (the helper is left to finish or hang on its own) or no thread
/// could be started. Control thread.
pub(crate) fn with_limit<T: Send + 'static>(
    limit: Duration,
    f: impl FnOnce() -> T + Send + 'static,
) -> Option<T> {
    let (tx, rx) = crossbeam_channel::bounded(1);
    std::thread::Builder::new()
        .name("isochord-audio-call".into())
        .spawn(move || {
            let _ = tx.send(f());
        })
        .ok()?;
    rx.recv_timeout(limit).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn returns_in_time_or_gives_up() {
        assert_eq!(with_limit(Duration::from_secs(5), || 7), Some(7));
        let t0 = std::time::Instant::now();
        let r = with_limit(Duration::from_millis(50), || {
            std::thread::sleep(Duration::from_secs(2));
            1
        });
        assert_eq!(r, None);
        assert!(t0.elapsed() < Duration::from_secs(1));
    }
}
