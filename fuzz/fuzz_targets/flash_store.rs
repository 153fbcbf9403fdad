#![no_main]
//! Structure-aware: the embedded adapter's durable log on NOR flash (`ocpp_embedded::flash`),
//! on `sequential-storage`'s mock flash (6 pages of 256 bytes) behind the test suite's power
//! switch, driven by a script that `arbitrary` decodes from the input.
//!
//! Steps: appends and replaces of records of any length (too long ones too), loads, the power
//! cut after any number of bytes of the next write, a driver error in the middle of the next
//! write (the flash works on), the next write's future dropped after any number of polls,
//! restarts (a new store over the same flash), and bits flipped at rest. The flash may also
//! start with bytes from the input instead of blank.
//!
//! Checks, against a model of the log:
//! - no panic, whatever the flash holds (on a flash that started with bytes from the input,
//!   that is all);
//! - on a good flash (blank at first, never damaged): a write answered `Ok` is in the log, one
//!   answered `Full` or `TooLarge` is not, no other error occurs, every load gives the model;
//!   a write interrupted by a power cut, a driver error or a drop leaves the old log or the
//!   new one, never a mix (the new one if it was answered `Ok`), and a second load agrees;
//! - once damaged by flipped bits (for good, since a bit flipped in erased flash
//!   damages an item written there later), a load gives a prefix of a log the store was told
//!   to hold, or an error: never records out of order or never written.

use std::cell::RefCell;
use std::rc::Rc;

use libfuzzer_sys::arbitrary::{self, Arbitrary};
use libfuzzer_sys::fuzz_target;
use ocpp_embedded::AsyncStore;
use ocpp_embedded::flash::{FlashStore, FlashStoreError};
use ocpp_station::store::Write;

#[allow(dead_code)]
#[path = "../../ocpp-embedded/tests/flash/support.rs"]
mod support;

use support::{Plan, Power, TestFlash, TestFlashError, apply, block_on, poll_then_drop};

type Small = TestFlash<6, 4, 64>;
type Log = Vec<Vec<u8>>;

/// A record: short ones mostly, up to a page and beyond (`MAX_RECORD` is 232 here).
#[derive(Debug, Arbitrary)]
struct Record {
    len: u8,
    extra: bool,
    seed: u8,
}

impl Record {
    fn bytes(&self) -> Vec<u8> {
        let len = usize::from(self.len) + if self.extra { 200 } else { 0 };
        support::record(len, self.seed)
    }
}

#[derive(Debug, Arbitrary)]
enum Fault {
    /// The power goes after this many more bytes written or erased.
    Cut(u16),
    /// The write or erase in which this many more bytes are written fails; the flash works on.
    Glitch(u16),
    /// The write's future is dropped after this many polls (the flash yields at every
    /// operation, so a write takes many).
    Drop(u8),
}

#[derive(Debug, Arbitrary)]
enum Step {
    Append(Record),
    Replace(Vec<Record>),
    /// The next write, with a fault.
    Faulty {
        fault: Fault,
        replace: bool,
        records: Vec<Record>,
    },
    Load,
    Restart,
    /// Damage at rest: bit `bit % 8` of byte `at` (modulo the flash size) flipped, unless it
    /// was before, then a restart.
    Flip {
        at: u16,
        bit: u8,
    },
}

#[derive(Debug, Arbitrary)]
struct Script {
    /// Bytes the flash starts with (repeated over it) instead of blank, if any.
    garbage: Option<Vec<u8>>,
    steps: Vec<Step>,
}

/// The store, its power switch, and what the log may be.
struct Harness {
    store: Option<FlashStore<Small>>,
    power: Rc<RefCell<Power>>,
    /// The log the store was told to hold: the last log loaded with every write answered `Ok`
    /// since (`None` while unknown: garbage flash, or a failed write on damaged flash).
    intended: Option<Log>,
    /// The flash started with bytes from the input: what it holds is no log the store was
    /// ever told to hold, so only "no panic" is checked.
    garbage: bool,
    /// Set for good by garbage or flipped bits. Damage costs the item it hits and what
    /// follows it, and damage in erased flash hits an item written there later, so from
    /// here a load need only give a prefix of a log the store was told to hold.
    damaged: bool,
    /// Every log the store was told to hold since the intended log was last unknown.
    history: Vec<Log>,
    /// The bits flipped so far: each is flipped at most once, since flipping one back would
    /// undo damage (a marginal bit reading right again), which the model does not cover.
    flipped: Vec<(usize, u8)>,
}

fn open(flash: Small) -> FlashStore<Small> {
    match FlashStore::new(flash, Small::range()) {
        Ok(store) => store,
        Err(error) => panic!("the mock's range suits the store: {error:?}"),
    }
}

impl Harness {
    fn new(garbage: Option<&[u8]>) -> Harness {
        let mut flash = Small::new();
        flash.yields = true;
        let damaged = match garbage {
            Some(bytes) if !bytes.is_empty() => {
                for (i, byte) in flash.mock.as_bytes_mut().iter_mut().enumerate() {
                    *byte = bytes[i % bytes.len()];
                }
                true
            }
            _ => false,
        };
        let intended = (!damaged).then(Vec::new);
        Harness {
            power: flash.power.clone(),
            store: Some(open(flash)),
            history: intended.iter().cloned().collect(),
            intended,
            garbage: damaged,
            damaged,
            flipped: Vec::new(),
        }
    }

    fn store(&mut self) -> &mut FlashStore<Small> {
        match &mut self.store {
            Some(store) => store,
            None => unreachable!("the store is put back after every restart"),
        }
    }

    /// A new store over the same flash, powered up again (`flip` first damages it).
    fn restart(&mut self, flip: Option<(usize, u8)>) {
        let Some(store) = self.store.take() else {
            return;
        };
        let mut flash = store.into_inner().power_up();
        flash.yields = true;
        if let Some((at, bit)) = flip {
            let bytes = flash.mock.as_bytes_mut();
            let (at, bit) = (at % bytes.len(), bit % 8);
            if !self.flipped.contains(&(at, bit)) {
                self.flipped.push((at, bit));
                bytes[at] ^= 1 << bit;
            }
        }
        self.power = flash.power.clone();
        self.store = Some(open(flash));
    }

    fn load(&mut self) -> Result<Log, FlashStoreError<TestFlashError>> {
        block_on(self.store().load())
    }

    fn tell(&mut self, log: Log) {
        if self.history.last() != Some(&log) {
            self.history.push(log.clone());
        }
        self.intended = Some(log);
    }

    /// The intended log is unknown until the next load.
    fn forget(&mut self) {
        self.intended = None;
        self.history.clear();
    }

    /// Holds a load to what the store was told: exactly on a good flash, a prefix of a log
    /// it was told to hold after damage. The log loaded is what the store holds from now.
    fn loaded(&mut self, result: Result<Log, FlashStoreError<TestFlashError>>, what: &str) {
        if self.garbage {
            return self.forget();
        }
        match (result, self.damaged) {
            (Ok(log), false) => assert_eq!(Some(&log), self.intended.as_ref(), "{what}"),
            (Ok(log), true) => {
                assert!(
                    self.history.is_empty() || self.history.iter().any(|h| h.starts_with(&log)),
                    "{what}: {log:?} is no prefix of a log the store held: {:?}",
                    self.history
                );
                self.tell(log);
            }
            (Err(error), false) => panic!("{what} of a good flash failed: {error:?}"),
            (Err(_), true) => self.forget(),
        }
    }

    fn write(&mut self, write: &Write) {
        match block_on(self.store().write(write)) {
            Ok(()) => {
                if let Some(mut log) = self.intended.clone() {
                    apply(&mut log, write);
                    self.tell(log);
                }
            }
            Err(FlashStoreError::Full | FlashStoreError::TooLarge { .. }) => {}
            Err(_) if self.damaged => self.forget(),
            Err(error) => panic!("{write:?} on a good flash failed: {error:?}"),
        }
    }

    /// The next write with `fault`, then what the log is found to be: the old log or the new
    /// one, never a mix, and the new one if the write was answered `Ok`.
    fn faulty(&mut self, fault: &Fault, write: &Write) {
        let result = match *fault {
            Fault::Cut(bytes) => {
                self.power.borrow_mut().plan = Some(Plan::Cut(usize::from(bytes)));
                block_on(self.store().write(write)).map(Some)
            }
            Fault::Glitch(bytes) => {
                self.power.borrow_mut().plan = Some(Plan::Fail(usize::from(bytes)));
                block_on(self.store().write(write)).map(Some)
            }
            Fault::Drop(polls) => {
                match poll_then_drop(self.store().write(write), usize::from(polls)) {
                    Some(result) => result.map(Some),
                    None => Ok(None),
                }
            }
        };
        // A cut that did not come during this write must not come later.
        self.power.borrow_mut().plan = Some(Plan::Disarm);
        let cut = self.power.borrow().cut;
        if cut {
            self.restart(None);
        }
        let loaded = self.load();
        let Some(old) = self.intended.clone() else {
            return self.loaded(loaded, "a load after a fault");
        };
        let mut new = old.clone();
        apply(&mut new, write);
        if self.damaged {
            // Either may be what the store holds now.
            self.history.push(new);
            return self.loaded(loaded, "a load after a fault");
        }
        let loaded = match loaded {
            Ok(loaded) => loaded,
            Err(error) => panic!("a load after {fault:?} in {write:?} failed: {error:?}"),
        };
        match result {
            Ok(Some(())) => assert_eq!(loaded, new, "{write:?} answered Ok despite {fault:?}"),
            Err(FlashStoreError::TooLarge { .. }) => assert_eq!(loaded, old),
            _ => assert!(
                loaded == old || loaded == new,
                "after {fault:?} in {write:?}: {loaded:?}, expected {old:?} or {new:?}"
            ),
        }
        assert_eq!(
            self.load().ok().as_ref(),
            Some(&loaded),
            "a second load differs"
        );
        self.tell(loaded);
    }

    fn step(&mut self, step: &Step) {
        match step {
            Step::Append(record) => self.write(&Write::Append(record.bytes())),
            Step::Replace(records) => {
                self.write(&Write::Replace(records.iter().map(Record::bytes).collect()))
            }
            Step::Faulty {
                fault,
                replace,
                records,
            } => {
                let records: Log = records.iter().map(Record::bytes).collect();
                let write = match (replace, records.first()) {
                    (false, Some(first)) => Write::Append(first.clone()),
                    (false, None) => Write::Append(Vec::new()),
                    (true, _) => Write::Replace(records),
                };
                self.faulty(fault, &write);
            }
            Step::Load => {
                let loaded = self.load();
                self.loaded(loaded, "a load");
            }
            Step::Restart => {
                self.restart(None);
                let loaded = self.load();
                self.loaded(loaded, "a load after a restart");
            }
            Step::Flip { at, bit } => {
                self.restart(Some((usize::from(*at), *bit)));
                self.damaged = true;
                let loaded = self.load();
                self.loaded(loaded, "a load after damage");
            }
        }
    }
}

fuzz_target!(|script: Script| {
    let mut harness = Harness::new(script.garbage.as_deref());
    for step in script.steps.iter().take(64) {
        harness.step(step);
    }
});
