//! A flash for the tests: `sequential-storage`'s own mock, cut off for good at a chosen byte
//! (a power cut), optionally returning `Pending` once before every operation (so a future can
//! be dropped between any two flash operations), and a tiny executor.

#![allow(dead_code)]

use std::cell::RefCell;
use std::future::Future;
use std::pin::{Pin, pin};
use std::rc::Rc;
use std::task::{Context, Poll, Waker};

use embedded_storage_async::nor_flash::{
    ErrorType, MultiwriteNorFlash, NorFlash, NorFlashError, NorFlashErrorKind, ReadNorFlash,
};
use ocpp_embedded::AsyncStore;
use ocpp_embedded::flash::{FlashStore, FlashStoreError};
use ocpp_station::store::Write;
use sequential_storage::mock_flash::{MockFlashBase, MockFlashError, WriteCountCheck};

/// Runs a future to completion. Nothing here ever waits for anything: a `Pending` is only
/// ever a yield, so polling again at once makes progress.
pub fn block_on<T>(future: impl Future<Output = T>) -> T {
    let mut future = pin!(future);
    let mut cx = Context::from_waker(Waker::noop());
    loop {
        if let Poll::Ready(value) = future.as_mut().poll(&mut cx) {
            return value;
        }
    }
}

/// Polls `future` at most `polls` times: `Some` if it finished by then, `None` if it was
/// dropped unfinished.
pub fn poll_then_drop<T>(future: impl Future<Output = T>, polls: usize) -> Option<T> {
    let mut future = pin!(future);
    let mut cx = Context::from_waker(Waker::noop());
    for _ in 0..polls {
        if let Poll::Ready(value) = future.as_mut().poll(&mut cx) {
            return Some(value);
        }
    }
    None
}

/// What the test and the flash share.
#[derive(Debug, Default)]
pub struct Power {
    /// Bytes written or erased so far (each byte the mock's shut-off counter counts).
    pub touched: usize,
    /// Set once the power was cut: every operation fails from then on.
    pub cut: bool,
    /// Set by [`TestFlash::fail_after`]: the planned cut fails one write or erase, and the
    /// flash works on.
    pub glitch: bool,
    /// Flash operations so far (reads too).
    pub operations: usize,
    /// A change to the cut, made by the flash's next operation: for a flash a store owns.
    pub plan: Option<Plan>,
}

/// What [`Power::plan`] does at the flash's next operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Plan {
    /// [`TestFlash::cut_after`].
    Cut(usize),
    /// [`TestFlash::fail_after`].
    Fail(usize),
    /// No cut planned any more.
    Disarm,
}

#[derive(Debug, Clone, PartialEq)]
pub enum TestFlashError {
    Mock(MockFlashError),
    PoweredOff,
}

impl NorFlashError for TestFlashError {
    fn kind(&self) -> NorFlashErrorKind {
        NorFlashErrorKind::Other
    }
}

/// The crate's mock flash behind a power switch.
#[derive(Debug)]
pub struct TestFlash<const PAGES: usize, const WORD: usize, const PAGE_WORDS: usize> {
    pub mock: MockFlashBase<PAGES, WORD, PAGE_WORDS>,
    pub power: Rc<RefCell<Power>>,
    /// Return `Pending` once before each operation and once after it (when it is done, as a
    /// driver waiting for the flash's interrupt): a future dropped there leaves the operation
    /// not started, or done.
    pub yields: bool,
}

impl<const PAGES: usize, const WORD: usize, const PAGE_WORDS: usize>
    TestFlash<PAGES, WORD, PAGE_WORDS>
{
    /// A blank flash. Words may be written twice if the second write changes them (what
    /// removing an item does to its header), and write buffers must be 4-byte aligned.
    pub fn new() -> Self {
        Self::from_mock(MockFlashBase::new(
            WriteCountCheck::TwiceDifferent,
            None,
            true,
        ))
    }

    pub fn from_mock(mock: MockFlashBase<PAGES, WORD, PAGE_WORDS>) -> Self {
        Self {
            mock,
            power: Rc::default(),
            yields: false,
        }
    }

    /// Cuts the power after `bytes` more bytes are written or erased: the next byte is not,
    /// and every operation after fails.
    pub fn cut_after(&mut self, bytes: usize) {
        self.mock.bytes_until_shutoff = Some(u32::try_from(bytes).unwrap());
    }

    /// Fails the write or erase in which `bytes` more bytes are written or erased, after
    /// writing those: as a power cut would leave it, but the flash works on (a driver error
    /// in the middle of a write, as the same store sees it).
    pub fn fail_after(&mut self, bytes: usize) {
        self.cut_after(bytes);
        self.power.borrow_mut().glitch = true;
    }

    /// The flash as found at the next power-up: the same bytes, working again, no cut planned.
    pub fn power_up(&self) -> Self {
        let mut mock = self.mock.clone();
        mock.bytes_until_shutoff = None;
        Self::from_mock(mock)
    }

    pub fn range() -> std::ops::Range<u32> {
        MockFlashBase::<PAGES, WORD, PAGE_WORDS>::FULL_FLASH_RANGE
    }

    fn check(&mut self) -> Result<(), TestFlashError> {
        let plan = self.power.borrow_mut().plan.take();
        match plan {
            Some(Plan::Cut(bytes)) => self.cut_after(bytes),
            Some(Plan::Fail(bytes)) => self.fail_after(bytes),
            Some(Plan::Disarm) => {
                self.mock.bytes_until_shutoff = None;
                self.power.borrow_mut().glitch = false;
            }
            None => {}
        }
        let mut power = self.power.borrow_mut();
        power.operations += 1;
        if power.cut {
            Err(TestFlashError::PoweredOff)
        } else {
            Ok(())
        }
    }

    async fn maybe_yield(&self) {
        if self.yields {
            YieldOnce(false).await;
        }
    }

    /// Records the outcome of a write or an erase of `len` bytes.
    fn after<T>(&self, result: Result<T, MockFlashError>, len: usize) -> Result<T, TestFlashError> {
        let mut power = self.power.borrow_mut();
        match result {
            Ok(value) => {
                power.touched += len;
                Ok(value)
            }
            Err(MockFlashError::EarlyShutoff(..)) => {
                power.cut = !std::mem::take(&mut power.glitch);
                Err(TestFlashError::PoweredOff)
            }
            Err(error) => Err(TestFlashError::Mock(error)),
        }
    }
}

struct YieldOnce(bool);

impl Future for YieldOnce {
    type Output = ();
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.0 {
            Poll::Ready(())
        } else {
            self.0 = true;
            cx.waker().wake_by_ref();
            Poll::Pending
        }
    }
}

impl<const PAGES: usize, const WORD: usize, const PAGE_WORDS: usize> ErrorType
    for TestFlash<PAGES, WORD, PAGE_WORDS>
{
    type Error = TestFlashError;
}

impl<const PAGES: usize, const WORD: usize, const PAGE_WORDS: usize> ReadNorFlash
    for TestFlash<PAGES, WORD, PAGE_WORDS>
{
    const READ_SIZE: usize = WORD;

    async fn read(&mut self, offset: u32, bytes: &mut [u8]) -> Result<(), Self::Error> {
        self.maybe_yield().await;
        self.check()?;
        let result = self.mock.read(offset, bytes).await;
        self.maybe_yield().await;
        result.map_err(TestFlashError::Mock)
    }

    fn capacity(&self) -> usize {
        self.mock.capacity()
    }
}

impl<const PAGES: usize, const WORD: usize, const PAGE_WORDS: usize> NorFlash
    for TestFlash<PAGES, WORD, PAGE_WORDS>
{
    const WRITE_SIZE: usize = WORD;
    const ERASE_SIZE: usize = WORD * PAGE_WORDS;

    async fn erase(&mut self, from: u32, to: u32) -> Result<(), Self::Error> {
        self.maybe_yield().await;
        self.check()?;
        let result = self.mock.erase(from, to).await;
        let result = self.after(result, (to - from) as usize);
        self.maybe_yield().await;
        result
    }

    async fn write(&mut self, offset: u32, bytes: &[u8]) -> Result<(), Self::Error> {
        self.maybe_yield().await;
        self.check()?;
        let result = self.mock.write(offset, bytes).await;
        let result = self.after(result, bytes.len());
        self.maybe_yield().await;
        result
    }
}

impl<const PAGES: usize, const WORD: usize, const PAGE_WORDS: usize> MultiwriteNorFlash
    for TestFlash<PAGES, WORD, PAGE_WORDS>
{
}

/// The log after `write`.
pub fn apply(log: &mut Vec<Vec<u8>>, write: &Write) {
    match write {
        Write::Append(record) => log.push(record.clone()),
        Write::Replace(records) => *log = records.clone(),
    }
}

/// A record of `len` bytes, distinct for each `seed`.
pub fn record(len: usize, seed: u8) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u8).wrapping_mul(29).wrapping_add(seed))
        .collect()
}

pub fn load<F: MultiwriteNorFlash>(
    store: &mut FlashStore<F>,
) -> Result<Vec<Vec<u8>>, FlashStoreError<F::Error>> {
    block_on(store.load())
}

pub fn write<F: MultiwriteNorFlash>(
    store: &mut FlashStore<F>,
    write: &Write,
) -> Result<(), FlashStoreError<F::Error>> {
    block_on(store.write(write))
}
