//! [`StdClock`]: an `embassy-time` time driver on `std`'s monotonic clock, for programs that
//! run the adapter on a host (feature `host-time-driver`).
//!
//! **For host programs only** (a simulator, a soak test, the `ocpp station --embedded`
//! command): firmware gets its driver from its HAL. A binary may link exactly one
//! `embassy-time` driver, so a program that enables this feature must not link another one
//! (`embassy-time`'s `std` feature, a HAL's): the link fails with a duplicate
//! `_embassy_time_now` otherwise.
//!
//! It needs no executor of its own: the clock is [`std::time::Instant`] (ticks are
//! microseconds, `embassy-time`'s default 1 MHz rate), and one thread, started with the first
//! timer, wakes each timer's waker at its time, so `embassy-time` timers work inside tokio,
//! `futures::executor::block_on` or any other executor.

extern crate std;

use std::sync::{Condvar, Mutex, Once, OnceLock};
use std::task::Waker;
use std::time::{Duration, Instant};
use std::vec::Vec;

use embassy_time_driver::Driver;

/// The time driver (registered with `embassy_time_driver::time_driver_impl!`; there is
/// nothing to call).
#[derive(Debug)]
pub struct StdClock {
    start: OnceLock<Instant>,
    timers: Mutex<Vec<(u64, Waker)>>,
    changed: Condvar,
    thread: Once,
}

embassy_time_driver::time_driver_impl!(static DRIVER: StdClock = StdClock {
    start: OnceLock::new(),
    timers: Mutex::new(Vec::new()),
    changed: Condvar::new(),
    thread: Once::new(),
});

impl StdClock {
    /// Microseconds since the first call (embassy-time's default tick rate is 1 MHz).
    fn micros(&self) -> u64 {
        let elapsed = self.start.get_or_init(Instant::now).elapsed().as_micros();
        u64::try_from(elapsed).unwrap_or(u64::MAX)
    }

    /// The timer thread: wakes the due wakers, sleeps until the next one (or a new timer).
    fn run(&self) {
        let mut timers = self.timers.lock().unwrap_or_else(|e| e.into_inner());
        loop {
            let now = self.micros();
            let mut due = Vec::new();
            timers.retain(|(at, waker)| {
                let keep = *at > now;
                if !keep {
                    due.push(waker.clone());
                }
                keep
            });
            if !due.is_empty() {
                drop(timers);
                due.into_iter().for_each(Waker::wake);
                timers = self.timers.lock().unwrap_or_else(|e| e.into_inner());
                continue;
            }
            timers = match timers.iter().map(|(at, _)| *at).min() {
                None => self.changed.wait(timers).unwrap_or_else(|e| e.into_inner()),
                Some(at) => {
                    let wait = Duration::from_micros(at.saturating_sub(now));
                    match self.changed.wait_timeout(timers, wait) {
                        Ok((guard, _)) => guard,
                        Err(poisoned) => poisoned.into_inner().0,
                    }
                }
            };
        }
    }
}

impl Driver for StdClock {
    fn now(&self) -> u64 {
        self.micros()
    }

    fn schedule_wake(&self, at: u64, waker: &Waker) {
        self.thread.call_once(|| {
            std::thread::spawn(|| DRIVER.run());
        });
        let mut timers = self.timers.lock().unwrap_or_else(|e| e.into_inner());
        match timers.iter_mut().find(|(_, w)| w.will_wake(waker)) {
            Some(timer) => timer.0 = timer.0.min(at),
            None => timers.push((at, waker.clone())),
        }
        self.changed.notify_one();
    }
}
