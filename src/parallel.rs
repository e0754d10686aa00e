//! Doing one thing for many items at once, and waiting for something with a deadline: the two
//! shapes every "for each node" and "until it answers" in halab takes.
//!
//! Must not: run processes itself (`exec` does), or know what a node, lab or lesson is.

use std::time::{Duration, Instant};

/// Run `f` on every item at once, one thread each, and return the results in the items' order.
/// Items are few (a lab's nodes, a step's checks) and their work is waiting on processes, so a
/// plain scoped thread each is the right size; a panic in `f` is a bug and propagates.
pub(crate) fn each<I, T, F>(items: impl IntoIterator<Item = I>, f: F) -> Vec<T>
where
    I: Send,
    T: Send,
    F: Fn(I) -> T + Sync,
{
    let items: Vec<I> = items.into_iter().collect();
    if items.len() <= 1 {
        return items.into_iter().map(&f).collect();
    }
    std::thread::scope(|s| {
        let f = &f;
        let handles: Vec<_> = items
            .into_iter()
            .map(|item| s.spawn(move || f(item)))
            .collect();
        handles
            .into_iter()
            .map(|h| match h.join() {
                Ok(v) => v,
                Err(panic) => std::panic::resume_unwind(panic),
            })
            .collect()
    })
}

/// How a [`poll`] ended.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Polled<T> {
    /// `probe` gave a value, this long after the poll began.
    Ready(T, Duration),
    /// The deadline passed first; `probe` was asked at least once, the last time at or after
    /// the deadline was near.
    TimedOut,
}

/// Ask `probe` until it gives `Some`, pausing `pause` between tries, for at most `limit`. The
/// probe is always asked at least once, and once more right at the deadline rather than
/// sleeping past it, so a limit is never shortened by a pause.
pub(crate) fn poll<T>(
    limit: Duration,
    pause: Duration,
    mut probe: impl FnMut() -> Option<T>,
) -> Polled<T> {
    let started = Instant::now();
    let deadline = started + limit;
    loop {
        if let Some(v) = probe() {
            return Polled::Ready(v, started.elapsed());
        }
        let now = Instant::now();
        if now >= deadline {
            return Polled::TimedOut;
        }
        std::thread::sleep(pause.min(deadline - now));
    }
}

impl<T> Polled<T> {
    /// The value, if it came in time.
    pub(crate) fn ready(self) -> Option<T> {
        match self {
            Polled::Ready(v, _) => Some(v),
            Polled::TimedOut => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[test]
    fn each_keeps_the_order_and_runs_at_once() {
        let started = Instant::now();
        let out = each([3u64, 1, 2], |n| {
            std::thread::sleep(Duration::from_millis(100));
            n * 10
        });
        assert_eq!(out, vec![30, 10, 20]);
        assert!(
            started.elapsed() < Duration::from_millis(290),
            "ran one after another"
        );
    }

    #[test]
    fn poll_asks_until_ready_and_never_past_the_limit() {
        let tries = AtomicUsize::new(0);
        let got = poll(Duration::from_secs(2), Duration::from_millis(10), || {
            (tries.fetch_add(1, Ordering::SeqCst) >= 3).then_some("up")
        });
        assert!(matches!(got, Polled::Ready("up", _)));
        assert_eq!(tries.load(Ordering::SeqCst), 4);

        let started = Instant::now();
        let tries = AtomicUsize::new(0);
        let got: Polled<()> = poll(Duration::from_millis(120), Duration::from_secs(5), || {
            tries.fetch_add(1, Ordering::SeqCst);
            None
        });
        assert_eq!(got, Polled::TimedOut);
        assert!(
            started.elapsed() < Duration::from_secs(1),
            "slept past the limit"
        );
        assert_eq!(
            tries.load(Ordering::SeqCst),
            2,
            "once at the start, once at the deadline"
        );
    }
}
