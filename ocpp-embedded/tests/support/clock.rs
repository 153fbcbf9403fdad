//! An `embassy-time` driver for the host tests: the monotonic clock of `std`, and one thread
//! that wakes each registered waker at its time.

use std::sync::{Condvar, Mutex, Once, OnceLock};
use std::task::Waker;
use std::time::{Duration, Instant};

use embassy_time_driver::Driver;

pub struct StdDriver {
    start: OnceLock<Instant>,
    timers: Mutex<Vec<(u64, Waker)>>,
    changed: Condvar,
    thread: Once,
}

embassy_time_driver::time_driver_impl!(static DRIVER: StdDriver = StdDriver {
    start: OnceLock::new(),
    timers: Mutex::new(Vec::new()),
    changed: Condvar::new(),
    thread: Once::new(),
});

impl StdDriver {
    /// Microseconds since the first call (embassy-time's default tick rate is 1 MHz).
    fn micros(&self) -> u64 {
        self.start.get_or_init(Instant::now).elapsed().as_micros() as u64
    }

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
                    let wait = Duration::from_micros(at - now);
                    match self.changed.wait_timeout(timers, wait) {
                        Ok((guard, _)) => guard,
                        Err(poisoned) => poisoned.into_inner().0,
                    }
                }
            };
        }
    }
}

impl Driver for StdDriver {
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
