//! [`FlashStore`]: the station core's durable log on NOR flash, through the queue of
//! [`sequential-storage`](sequential_storage).
//!
//! # Layout
//!
//! The flash range is one `sequential-storage` [queue](sequential_storage::queue): a ring of
//! pages holding items in the order they were pushed, each with a length and a CRC-32 of its
//! own, so an item torn by a power cut reads as corrupt and is skipped. Every item is one of
//!
//! ```text
//! record:  generation: u32 LE | index: u32 LE (< u32::MAX) | the station's record bytes
//! commit:  generation: u32 LE | u32::MAX
//! ```
//!
//! A *generation* is one log as [`Write::Replace`] wrote it, plus the appends after it. The
//! log on flash is the **committed generation** `C`, the newest generation with a commit item
//! (generation 0, the log of a blank flash, needs none): its records, in queue order, taken
//! while their indexes run 0, 1, 2, ... without a gap.
//!
//! # Append
//!
//! One record item of generation `C`, with the next index, pushed to the queue. It is durable
//! when the push returns. Power lost during the push leaves a torn item, which the queue skips
//! on reading; the next append takes the same index, so the log reads on without a gap.
//!
//! # Replace: why it is atomic
//!
//! A replace writes a new generation `G = C + 1` beside the old one:
//!
//! 1. every new record as an item of `G`, indexes 0, 1, ...;
//! 2. the commit item of `G`: **the single write that switches the log**;
//! 3. then it removes (pops) every item of an older generation, old commit included.
//!
//! A power cut before the commit item is whole leaves `C` the newest committed generation, so
//! a load gives the old log, whole (its items are untouched until step 3); the partial items
//! of `G` are ignored and removed by the next load. A cut after it gives `G`, with all its
//! records written before the commit; the old items left over are ignored (older than `G`) and
//! removed by the next load. A torn commit item reads as corrupt, that is as absent. Hence a
//! load gives the old log or the new one, never a mix. The items of an abandoned replace are
//! never taken for those of a later one: the store writes nothing after a failed or
//! interrupted replace before a full scan has removed every item of a generation other than
//! `C`, so `C + 1` is free whenever a replace starts.
//!
//! # Load and repair
//!
//! A load reads the queue twice: once to find `C`, once to collect its records. On the second
//! pass it removes what is not the log: items of other generations (an interrupted replace,
//! or the old generation of an interrupted removal) and every record of `C` from the first gap
//! on (a record whose index is not the next one: one that `sequential-storage` skipped as
//! corrupt was missing, so the log ends before it, as [`AsyncStore::load`] promises; removing
//! the rest keeps later appends from landing after a hole). Corruption `sequential-storage`
//! meets while reading is repaired by the crate itself (it re-erases a half-erased page). A
//! power cut never damages an item already written; damage at rest (a flipped bit) costs the
//! item it hits and, like a gap, what follows it; if it hits the commit item of `C`, the load
//! falls back to what is left of the generation before (its records up to the first gap), or
//! to an empty log.
//!
//! # Torn item headers
//!
//! `sequential-storage` 8.0.2 appends the item after a torn item header right after the torn
//! words, where the cut may have half programmed a word and where a header read through the
//! torn bytes can pass its CRC and hide the new item after a restart
//! (tweedegolf/sequential-storage#136). So every scan (every load, and the first write after
//! a failure) ends by reading the item headers of the page being appended to; if they end in
//! a torn one, it writes a seal after it: zeros over one header slot, then an empty erased
//! item, checked so that no header read through the torn bytes leads past it (or, where it
//! does not fit, zeros to the end of the page). The next item then goes on words never
//! written, reached through the seal. This reads `sequential-storage` 8's item header and
//! page markers itself (a test cuts every byte of a header write and fails if it does not
//! match); a seal costs two header slots of flash, or the rest of the page.
//!
//! Costs: a load reads the range twice; an append is one push (the crate's RAM cache, a few
//! bytes a page, finds the write position); a replace reads the page states and the current
//! page to check the room, pushes its records and the commit, then reads and removes the old
//! generation.
//!
//! # Cancellation
//!
//! `sequential-storage`'s futures may be dropped at any `.await`, which can leave a torn item
//! or a half-erased page on the flash, as a power cut would; the crate marks its cache dirty for
//! the length of every operation and rebuilds it at the next one if it is still dirty, and it
//! repairs the flash when it finds it corrupt. What it cannot know is this store's own state
//! (the committed generation, the next index): an append dropped after its item reached the
//! flash would otherwise give the next append the same index, and a replace dropped half-way
//! would leave its items behind. So every [`FlashStore`] operation sets a flag when it starts
//! and clears it when it ends; an operation that finds the flag still set (the previous future
//! was dropped) forgets the state and rescans the flash, with the repair above, before doing
//! anything else. A dropped write may or may not have happened, as with a power cut; a dropped
//! replace has happened or not, whole.
//!
//! # Sizes
//!
//! A record takes [`FlashStore::item_bytes`] of flash: `sequential-storage`'s item header
//! (8 bytes, padded to the flash word `W`), this store's 8-byte header, and the record, padded
//! to `W`. An item must fit in one page, so the longest record is
//! [`FlashStore::MAX_RECORD`] = `page − 2·W − round_up(8, W) − 8` bytes (at most 65 527, the
//! crate's 16-bit item length, and at most [`log::MAX_RECORD`]). For `W` ≤ 8 that is
//! `page − 2·W − 16`:
//!
//! | page | word | longest record |
//! |---:|---:|---:|
//! | 256 | 4 | 232 |
//! | 1 KiB | 4 | 1 000 |
//! | 2 KiB | 8 | 2 016 |
//! | 4 KiB | 4 | 4 072 |
//! | 8 KiB | 4 | 8 168 |
//! | 64 KiB | 4 | 65 512 |
//! | 128 KiB and more | any ≤ 8 | 65 527 |
//!
//! A longer record is refused with [`FlashStoreError::TooLarge`] and nothing is written. The
//! store builds and reads items in one buffer of `MAX_RECORD + 8` bytes (padded to a word,
//! plus 3 for alignment), allocated when it is made.
//!
//! # Choosing `store_capacity`
//!
//! The flash range is all there is: when the queue has no room, a write fails with
//! [`FlashStoreError::Full`] (a replace checks first and writes nothing if the new log cannot
//! fit; an append writes nothing either). The station keeps its log under
//! `StationConfig::store_capacity` (record bytes + 8 per record), and the flash must hold,
//! at a replace, the old generation and the new one side by side. `(range − 2 pages) / 2` is
//! not enough, for three reasons:
//!
//! - a record takes more flash than the station counts for it: at most `H + W − 1` bytes more
//!   (`H` = `round_up(8, W)`), so a log of `B` station bytes whose records are at least `s`
//!   bytes long takes at most `ρ·B` flash bytes, `ρ = 1 + (H + W − 1)/(s + 8)`;
//! - an item never straddles two pages: a page is left with less free space than the item that
//!   did not fit, so a full page holds at least `page − 2·W − item_bytes(longest) + 1` bytes of
//!   items;
//! - the space of an interrupted replace (or a torn append) is reclaimed only when the ring
//!   wraps past it, that is after the next replace retires the generation before it.
//!
//! [`FlashStore::store_capacity`] gives a capacity for which every replace fits even after one
//! interrupted write since the last replace: old generation + the interrupted one + the new one
//! (3·(ρ·S + one commit item)) within all pages but two, each counted at its guaranteed fill.
//! For a 64 KiB range of 4 KiB pages, 4-byte words, records of 11 to 2 048 bytes it is 5 974
//! bytes; with records of at most 1 KiB, 9 001: records up to half a page can waste half of
//! every page, so keep the longest record well under the page size (or use larger pages). The
//! bound holds for any sequence; the most demanding ones the tests drive (compactions that
//! keep the whole log, a replace cut just before its commit) run the flash full at about 2.5
//! times it. A flash store that is full stays full (the station retries the write), so err on
//! the safe side. If the station's compacted log itself outgrows its capacity
//! (`StationEvent::StoreFull`), the bound no longer holds.
//!
//! # Flash requirements
//!
//! Removing an item rewrites its header with the CRC cleared
//! ([`MultiwriteNorFlash`]): bits may be cleared in a word already written. Flash that allows a
//! word to be written only once (internal flash with ECC, such as many STM32 families) is not
//! supported by `sequential-storage`'s queue removal.

use alloc::vec;
use alloc::vec::Vec;
use core::fmt;
use core::ops::Range;

use embedded_storage_async::nor_flash::{MultiwriteNorFlash, NorFlash};
use ocpp_station::store::{Write, log};
use sequential_storage::cache::page_pointers::HeapPagePointers;
use sequential_storage::cache::page_states::HeapPageStates;
use sequential_storage::cache::{Cache, Uncached};
use sequential_storage::queue::{QueueConfig, QueueConfigError, QueueStorage};

use crate::AsyncStore;

#[cfg(feature = "std")]
pub use file::{FileFlash, FileFlashError};

mod seal;

/// The bytes this store puts before a record in its item: generation and index.
const HEADER: usize = 8;

/// The index of a commit item.
const COMMIT: u32 = u32::MAX;

/// Buffers handed to the flash are aligned to this (some drivers, and the crate's mock,
/// require it).
const ALIGN: usize = 4;

/// The cache `sequential-storage` keeps in RAM: page states and page pointers, sized at run
/// time for the range (a few bytes per page).
type FlashCache = Cache<HeapPageStates, HeapPagePointers, Uncached>;

/// Why a [`FlashStore`] call failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FlashStoreError<E> {
    /// The flash driver failed.
    Flash(E),
    /// No room left in the flash range: nothing was written (an append), or the log is still
    /// the old one (a replace). See the module documentation on choosing `store_capacity`.
    Full,
    /// A record is longer than [`FlashStore::MAX_RECORD`]; nothing was written.
    TooLarge {
        /// The length of the refused record.
        len: usize,
        /// The longest record this store takes.
        max: usize,
    },
    /// `sequential-storage` found the flash damaged beyond what it can repair. Erasing the
    /// range (losing the log) is the way out.
    Corrupted,
    /// The range does not suit `sequential-storage`: not on page boundaries, no page at all,
    /// or pages too small.
    Config(QueueConfigError),
    /// The generation or index counter would overflow (after 2³² replaces, or 2³² − 1 appends
    /// without a replace): erase the range.
    Exhausted,
    /// `sequential-storage` reported an internal error (a logic bug or a buffer it found
    /// wrong); the message names it.
    Internal(&'static str),
}

impl<E: fmt::Debug> fmt::Display for FlashStoreError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Flash(error) => write!(f, "the flash failed: {error:?}"),
            Self::Full => f.write_str("the flash store is full"),
            Self::TooLarge { len, max } => write!(
                f,
                "a record of {len} bytes exceeds this flash store's maximum of {max} bytes"
            ),
            Self::Corrupted => f.write_str("the flash store is corrupted beyond repair"),
            Self::Config(error) => write!(f, "the flash range does not suit the store: {error:?}"),
            Self::Exhausted => f.write_str("the flash store's counters are exhausted"),
            Self::Internal(what) => write!(f, "sequential-storage failed: {what}"),
        }
    }
}

impl<E: fmt::Debug> core::error::Error for FlashStoreError<E> {}

impl<E> From<sequential_storage::Error<E>> for FlashStoreError<E> {
    fn from(error: sequential_storage::Error<E>) -> Self {
        use sequential_storage::Error;
        match error {
            Error::Storage { value, .. } => Self::Flash(value),
            Error::FullStorage => Self::Full,
            Error::Corrupted { .. } => Self::Corrupted,
            Error::LogicBug { .. } => Self::Internal("logic bug"),
            Error::BufferTooBig => Self::Internal("buffer too big"),
            Error::BufferTooSmall(_) => Self::Internal("buffer too small"),
            Error::SerializationError(_) => Self::Internal("serialization"),
            Error::ItemTooBig => Self::Internal("item too big"),
            _ => Self::Internal("unknown error"),
        }
    }
}

/// What an item on the flash is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Item<'a> {
    Record {
        generation: u32,
        index: u32,
        record: &'a [u8],
    },
    Commit {
        generation: u32,
    },
    /// Not written by this store (or damaged in a way its CRC did not catch).
    Foreign,
}

impl Item<'_> {
    fn parse(bytes: &[u8]) -> Item<'_> {
        let Some((generation, rest)) = bytes.split_first_chunk::<4>() else {
            return Item::Foreign;
        };
        let Some((index, record)) = rest.split_first_chunk::<4>() else {
            return Item::Foreign;
        };
        let generation = u32::from_le_bytes(*generation);
        match u32::from_le_bytes(*index) {
            COMMIT if record.is_empty() => Item::Commit { generation },
            COMMIT => Item::Foreign,
            index => Item::Record {
                generation,
                index,
                record,
            },
        }
    }

    fn generation(self) -> Option<u32> {
        match self {
            Item::Record { generation, .. } | Item::Commit { generation } => Some(generation),
            Item::Foreign => None,
        }
    }
}

/// What the store knows of the flash after a scan.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Head {
    /// The committed generation: the log.
    generation: u32,
    /// The index of the next record appended.
    next: u32,
}

/// The station core's durable log on NOR flash: an [`AsyncStore`] over a range of a
/// [`MultiwriteNorFlash`], through `sequential-storage`'s queue. See the
/// [module documentation](self) for the layout, why a replace is atomic, how a dropped future
/// is recovered from, the longest record and how to choose the station's `store_capacity`.
///
/// ```
/// # use ocpp_embedded::flash::FlashStore;
/// # use ocpp_embedded::AsyncStore;
/// # use ocpp_station::store::Write;
/// # async fn demo<F: embedded_storage_async::nor_flash::MultiwriteNorFlash>(flash: F)
/// # -> Result<(), ocpp_embedded::flash::FlashStoreError<F::Error>> {
/// // The partition: 16 pages of the flash from 0x10_0000 on, nothing else in it.
/// let start = 0x10_0000;
/// let mut store = FlashStore::new(flash, start..start + 16 * F::ERASE_SIZE as u32)?;
/// let records = store.load().await?; // replay them into the station
/// store.write(&Write::Append(b"{\"N\":[1,1]}".to_vec())).await?;
/// # Ok(()) }
/// ```
///
/// Nothing else may write to the range. It need not be erased at first use: a blank range is
/// an empty log, and anything that is not this store's items is removed at the first load.
/// To wipe the log, erase the range on the flash ([`into_inner`](Self::into_inner)) and make a
/// new store.
pub struct FlashStore<F: NorFlash> {
    queue: QueueStorage<F, FlashCache>,
    /// Where items are built and read: [`Self::BUFFER`] bytes, aligned at [`ALIGN`] within.
    buffer: Vec<u8>,
    /// Known after a scan; `None` when the flash must be scanned before the next write.
    head: Option<Head>,
    /// Set while an operation runs: found set at the start of one, the previous future was
    /// dropped.
    busy: bool,
}

impl<F: NorFlash> fmt::Debug for FlashStore<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FlashStore")
            .field("range", &self.queue.flash_range())
            .field("head", &self.head)
            .field("busy", &self.busy)
            .finish_non_exhaustive()
    }
}

const fn round_up(value: usize, to: usize) -> usize {
    value.next_multiple_of(to)
}

const fn min(a: usize, b: usize) -> usize {
    if a < b { a } else { b }
}

impl<F: NorFlash> FlashStore<F> {
    /// The flash word as `sequential-storage` sees it: the larger of the read and write sizes.
    const WORD: usize = if F::WRITE_SIZE > F::READ_SIZE {
        F::WRITE_SIZE
    } else {
        F::READ_SIZE
    };

    /// `sequential-storage`'s item header (data CRC, length, length CRC), padded to a word.
    const ITEM_HEADER: usize = round_up(8, Self::WORD);

    /// The longest item `sequential-storage` stores: one page less its two state words and
    /// the item header, and at most `u16::MAX`.
    const MAX_ITEM: usize = min(
        F::ERASE_SIZE.saturating_sub(2 * Self::WORD + Self::ITEM_HEADER),
        u16::MAX as usize,
    );

    /// The buffer items are read into: the longest item, padded to a word.
    const BUFFER: usize = round_up(Self::MAX_ITEM, Self::WORD);

    /// The longest record this store takes on this flash: `page − 2·W − round_up(8, W) − 8`
    /// bytes (`W` the flash word), at most 65 527 (the item length is 16 bits) and at most
    /// [`log::MAX_RECORD`]. A longer one is refused with [`FlashStoreError::TooLarge`].
    pub const MAX_RECORD: usize = min(Self::MAX_ITEM.saturating_sub(HEADER), log::MAX_RECORD);

    /// The flash bytes a record of `len` bytes takes: `round_up(8, W) + round_up(8 + len, W)`.
    pub const fn item_bytes(len: usize) -> usize {
        Self::ITEM_HEADER + round_up(HEADER + len, Self::WORD)
    }

    /// A `StationConfig::store_capacity` for which a replace always fits, even after one
    /// interrupted write since the previous replace, in a range of `range_len` bytes when
    /// every record the station writes is `shortest` to `longest` bytes long (the station's
    /// own records are at least `ocpp_station::store::SHORTEST_RECORD` bytes). 0 if no capacity is safe
    /// (fewer than 3 pages, or `longest` over [`MAX_RECORD`](Self::MAX_RECORD)).
    ///
    /// With `N` pages, `U = page − 2·W` bytes of items per page at most, `q = U −
    /// item_bytes(longest) + 1` at least on every page but the first and last of a span,
    /// `ρ = 1 + (round_up(8, W) + W − 1)/(shortest + 8)` and `c` a commit item, it is the
    /// largest `S` with `3·(ρ·S + c) ≤ (N − 2)·q`. The module documentation explains why.
    pub const fn store_capacity(range_len: usize, shortest: usize, longest: usize) -> usize {
        let pages = range_len / F::ERASE_SIZE;
        if pages < 3 || longest > Self::MAX_RECORD {
            return 0;
        }
        let per_page = (F::ERASE_SIZE - 2 * Self::WORD - Self::item_bytes(longest) + 1) as u64;
        let room = (pages as u64 - 2) * per_page;
        let commits = 3 * Self::item_bytes(0) as u64;
        if room <= commits {
            return 0;
        }
        let framed = shortest as u64 + 8;
        let slack = (Self::ITEM_HEADER + Self::WORD - 1) as u64;
        let capacity = (room - commits) * framed / (3 * (framed + slack));
        if capacity > usize::MAX as u64 {
            usize::MAX
        } else {
            capacity as usize
        }
    }

    /// A store over `range` of `flash` (a whole number of pages, at least one; in practice
    /// three or more, see [`store_capacity`](Self::store_capacity)). Nothing is read or
    /// written until the first call.
    pub fn new(flash: F, range: Range<u32>) -> Result<Self, FlashStoreError<F::Error>> {
        let config = QueueConfig::<F>::try_new(range.clone()).map_err(FlashStoreError::Config)?;
        let pages = range.len() / F::ERASE_SIZE;
        let cache = Cache::new(
            HeapPageStates::new(pages),
            HeapPagePointers::new(pages),
            Uncached,
        );
        Ok(Self {
            queue: QueueStorage::new(flash, config, cache),
            buffer: vec![0; Self::BUFFER + ALIGN - 1],
            head: None,
            busy: false,
        })
    }

    /// The flash range this store uses.
    pub fn range(&self) -> Range<u32> {
        self.queue.flash_range()
    }

    /// The flash back (to erase the range, or hand it to another store).
    pub fn into_inner(self) -> F {
        self.queue.destroy().0
    }
}

/// An aligned window of `len` bytes in `buffer`, or `None` if it does not fit.
fn window(buffer: &mut [u8], len: usize) -> Option<&mut [u8]> {
    let offset = buffer.as_ptr().align_offset(ALIGN);
    let offset = if offset < ALIGN { offset } else { 0 };
    buffer.get_mut(offset..offset.checked_add(len)?)
}

impl<F: MultiwriteNorFlash> FlashStore<F> {
    /// The window items are read into.
    fn read_window(buffer: &mut [u8]) -> Result<&mut [u8], FlashStoreError<F::Error>> {
        window(buffer, Self::BUFFER).ok_or(FlashStoreError::Internal("buffer"))
    }

    /// Builds the item of a record (or of a commit, `record` empty and `index` [`COMMIT`]) in
    /// the buffer.
    fn build<'b>(
        buffer: &'b mut [u8],
        generation: u32,
        index: u32,
        record: &[u8],
    ) -> Result<&'b [u8], FlashStoreError<F::Error>> {
        let item = window(buffer, HEADER + record.len()).ok_or(FlashStoreError::TooLarge {
            len: record.len(),
            max: Self::MAX_RECORD,
        })?;
        let (head, body) = item.split_at_mut(HEADER);
        head[..4].copy_from_slice(&generation.to_le_bytes());
        head[4..].copy_from_slice(&index.to_le_bytes());
        body.copy_from_slice(record);
        Ok(item)
    }

    fn check(record: &[u8]) -> Result<(), FlashStoreError<F::Error>> {
        if record.len() > Self::MAX_RECORD {
            Err(FlashStoreError::TooLarge {
                len: record.len(),
                max: Self::MAX_RECORD,
            })
        } else {
            Ok(())
        }
    }

    /// Pushes one item; `Full` when the queue has no room (nothing written then).
    async fn push(
        &mut self,
        generation: u32,
        index: u32,
        record: &[u8],
    ) -> Result<(), FlashStoreError<F::Error>> {
        let item = Self::build(&mut self.buffer, generation, index, record)?;
        self.queue.push(item, false).await?;
        Ok(())
    }

    /// Reads the flash: the committed generation's records (collected if `collect`), and the
    /// head. Removes every item that is not part of the log (module documentation, "Load and
    /// repair").
    async fn scan(&mut self, collect: bool) -> Result<Vec<Vec<u8>>, FlashStoreError<F::Error>> {
        self.head = None;
        let buffer = Self::read_window(&mut self.buffer)?;

        // Pass 1: the committed generation.
        let mut committed = None;
        let mut items = self.queue.iter().await?;
        while let Some(entry) = items.next(buffer).await? {
            if let Item::Commit { generation } = Item::parse(&entry) {
                committed = Some(committed.map_or(generation, |c: u32| c.max(generation)));
            }
        }
        let generation = committed.unwrap_or(0);

        // Pass 2: the log, up to its first gap; everything else goes.
        let mut records = Vec::new();
        let mut next = 0;
        let mut cut = false;
        let mut items = self.queue.iter().await?;
        while let Some(entry) = items.next(buffer).await? {
            let keep = match Item::parse(&entry) {
                Item::Commit { generation: g } => g == generation,
                Item::Record {
                    generation: g,
                    index,
                    record,
                } if g == generation && !cut => {
                    if index == next {
                        if collect {
                            records.push(record.to_vec());
                        }
                        next += 1;
                        true
                    } else {
                        cut = true;
                        false
                    }
                }
                Item::Record { .. } | Item::Foreign => false,
            };
            if !keep {
                entry.pop().await?;
            }
        }
        self.seal_torn_tail().await?;
        // Every item of another generation is gone now (or torn, which reads as absent), so
        // the next replace may take `generation + 1`.
        self.head = Some(Head { generation, next });
        Ok(records)
    }

    /// Reads `len` bytes at `at` (both multiples of the read size) into the buffer.
    async fn read_raw(&mut self, at: u32, len: usize) -> Result<&[u8], FlashStoreError<F::Error>> {
        let bytes = window(&mut self.buffer, len).ok_or(FlashStoreError::Internal("buffer"))?;
        self.queue
            .flash()
            .read(at, bytes)
            .await
            .map_err(FlashStoreError::Flash)?;
        Ok(bytes)
    }

    /// The item area of the page `sequential-storage` appends to (its partly filled page:
    /// start marker written, end marker not), if there is one.
    async fn appending_page(&mut self) -> Result<Option<Range<u32>>, FlashStoreError<F::Error>> {
        // A marker counts once half the bits of its first read unit are cleared, as
        // `sequential-storage` reads it.
        fn marked(bytes: &[u8]) -> bool {
            bytes.iter().map(|byte| byte.count_zeros()).sum::<u32>() >= 4
        }
        let (page, word, read) = (F::ERASE_SIZE as u32, Self::WORD as u32, F::READ_SIZE);
        let range = self.queue.flash_range();
        let mut start = range.start;
        while start < range.end {
            let opened = marked(self.read_raw(start, read).await?);
            let closed = marked(self.read_raw(start + page - read as u32, read).await?);
            if opened && !closed {
                return Ok(Some(start + word..start + page - word));
            }
            start += page;
        }
        Ok(None)
    }

    /// Seals the page being appended to if its item headers end in a torn one (see
    /// [`seal`]): after this, the next item goes on words never written, where the header
    /// walk reaches it.
    ///
    /// `sequential-storage`'s cache stays true: a seal changes no page marker, and a scan
    /// leaves no cached write position (it pops, which caches positions before the torn
    /// header, and pushes nothing), so the next push finds its place by walking the headers,
    /// through the seal.
    async fn seal_torn_tail(&mut self) -> Result<(), FlashStoreError<F::Error>> {
        let Some(items) = self.appending_page().await? else {
            return Ok(());
        };
        let headers = seal::Headers {
            word: Self::WORD as u32,
            slot: Self::ITEM_HEADER as u32,
        };
        let (mut at, mut torn) = (items.start, None);
        let free = loop {
            if at + headers.slot > items.end {
                return Ok(()); // full: the next item goes to the next page
            }
            let slot = self.read_raw(at, headers.slot as usize).await?;
            if slot.iter().all(|&byte| byte == 0xFF) {
                break at;
            }
            match headers.item_end(at, slot, items.end) {
                Some(end) => (at, torn) = (end, None),
                None => (at, torn) = (at + headers.word, torn.or(Some(at))),
            }
        };
        // Nothing to seal, or no room left for any item of this store (two slots at least).
        let Some(torn) = torn.filter(|_| items.end - free >= 2 * headers.slot) else {
            return Ok(());
        };
        let mut torn_bytes = Vec::new();
        let mut at = torn;
        while at < free {
            let len = min((free - at) as usize, Self::BUFFER);
            torn_bytes.extend_from_slice(self.read_raw(at, len).await?);
            at += len as u32;
        }
        let seal = seal::plan(headers, &torn_bytes, torn, free, items.end);
        let mut at = seal.zeros.start;
        while at < seal.zeros.end {
            let len = min((seal.zeros.end - at) as usize, Self::BUFFER);
            let zeros = window(&mut self.buffer, len).ok_or(FlashStoreError::Internal("buffer"))?;
            zeros.fill(0);
            self.queue
                .flash()
                .write(at, zeros)
                .await
                .map_err(FlashStoreError::Flash)?;
            at += len as u32;
        }
        if let Some(at) = seal.erased_at {
            let slot = window(&mut self.buffer, headers.slot as usize)
                .ok_or(FlashStoreError::Internal("buffer"))?;
            headers.erased_empty(slot);
            self.queue
                .flash()
                .write(at, slot)
                .await
                .map_err(FlashStoreError::Flash)?;
        }
        Ok(())
    }

    /// The head, scanning the flash first if it is not known.
    async fn ready(&mut self) -> Result<Head, FlashStoreError<F::Error>> {
        if let Some(head) = self.head {
            return Ok(head);
        }
        self.scan(false).await?;
        self.head
            .ok_or(FlashStoreError::Internal("no head after a scan"))
    }

    async fn append(&mut self, record: &[u8]) -> Result<(), FlashStoreError<F::Error>> {
        Self::check(record)?;
        let head = self.ready().await?;
        if head.next == COMMIT {
            return Err(FlashStoreError::Exhausted);
        }
        self.push(head.generation, head.next, record).await?;
        self.head = Some(Head {
            next: head.next + 1,
            ..head
        });
        Ok(())
    }

    async fn replace(&mut self, records: &[Vec<u8>]) -> Result<(), FlashStoreError<F::Error>> {
        for record in records {
            Self::check(record)?;
        }
        let head = self.ready().await?;
        // Free: a scan left no item of a later generation, and a replace that failed before
        // its commit forgot the head, so a scan comes first.
        let generation = head
            .generation
            .checked_add(1)
            .ok_or(FlashStoreError::Exhausted)?;
        if records.len() >= COMMIT as usize {
            return Err(FlashStoreError::Exhausted);
        }
        // Refuse early what cannot fit: `space_left` counts at least the room there is (it
        // also counts emptied pages the ring has not reached yet), and the items need at
        // least this much, so nothing that would fit is refused.
        let needed = records
            .iter()
            .map(|record| Self::item_bytes(record.len()))
            .fold(Self::item_bytes(0), usize::saturating_add);
        let left = self.queue.space_left().await?;
        if usize::try_from(left).is_ok_and(|left| needed > left) {
            return Err(FlashStoreError::Full);
        }

        // Until the commit item is written, a failure leaves items of `generation` behind:
        // the next call rescans (and removes them).
        self.head = None;
        let mut index = 0;
        for record in records {
            self.push(generation, index, record).await?;
            index += 1;
        }
        self.push(generation, COMMIT, &[]).await?;
        self.head = Some(Head {
            generation,
            next: index,
        });

        // Committed: the replace has happened. Retiring the old items is housekeeping; if it
        // fails, the next call rescans and finishes it.
        if self.retire(generation).await.is_err() {
            self.head = None;
        }
        Ok(())
    }

    /// Removes the items older than `generation`: all of them come before its first item.
    async fn retire(&mut self, generation: u32) -> Result<(), FlashStoreError<F::Error>> {
        let buffer = Self::read_window(&mut self.buffer)?;
        let mut items = self.queue.iter().await?;
        while let Some(entry) = items.next(buffer).await? {
            match Item::parse(&entry).generation() {
                Some(g) if g >= generation => break,
                _ => {
                    entry.pop().await?;
                }
            }
        }
        Ok(())
    }

    /// Starts an operation: if the previous one never finished (its future was dropped), the
    /// state is forgotten and the next step rescans the flash.
    fn enter(&mut self) {
        if self.busy {
            self.head = None;
        }
        self.busy = true;
    }

    /// Ends an operation. After a failure other than a refusal that wrote nothing, the flash
    /// is rescanned before the next write.
    fn leave<T>(
        &mut self,
        result: Result<T, FlashStoreError<F::Error>>,
    ) -> Result<T, FlashStoreError<F::Error>> {
        self.busy = false;
        if let Err(error) = &result
            && !matches!(
                error,
                FlashStoreError::Full | FlashStoreError::TooLarge { .. }
            )
        {
            self.head = None;
        }
        result
    }
}

impl<F: MultiwriteNorFlash> AsyncStore for FlashStore<F> {
    type Error = FlashStoreError<F::Error>;

    /// The committed generation's records, up to the first gap; removes everything else from
    /// the flash (an interrupted replace, a torn or damaged tail, old items).
    async fn load(&mut self) -> Result<Vec<Vec<u8>>, Self::Error> {
        self.enter();
        let result = self.scan(true).await;
        self.leave(result)
    }

    async fn write(&mut self, write: &Write) -> Result<(), Self::Error> {
        self.enter();
        let result = match write {
            Write::Append(record) => self.append(record).await,
            Write::Replace(records) => self.replace(records).await,
        };
        self.leave(result)
    }
}

#[cfg(feature = "std")]
mod file {
    //! [`FileFlash`]: a NOR flash simulated in a file.

    extern crate std;

    use std::fs::{File, OpenOptions};
    use std::io::{self, Read, Seek, SeekFrom, Write};
    use std::path::Path;
    use std::vec;

    use embedded_storage_async::nor_flash::{
        ErrorType, MultiwriteNorFlash, NorFlash, NorFlashError, NorFlashErrorKind, ReadNorFlash,
    };
    use ocpp_station::store::SyncMode;

    /// A NOR flash of `PAGE`-byte pages written in `WORD`-byte words, simulated in a file (for
    /// host tests and soak runs across process kills): erasing sets a page's bytes to `0xFF`,
    /// writing clears bits (the file's byte becomes `old & new`, as on NOR flash), reads are
    /// byte-granular. Offsets and lengths are checked as a flash driver would
    /// ([`NorFlashErrorKind::NotAligned`], [`NorFlashErrorKind::OutOfBounds`]).
    ///
    /// With [`SyncMode::Data`] every write and erase is `fdatasync`ed before it returns (what
    /// survives a power cut of the host); with [`SyncMode::None`] (the default) only a process
    /// kill is survived, which is what a soak test needs and much faster.
    #[derive(Debug)]
    pub struct FileFlash<const PAGE: usize = 4096, const WORD: usize = 4> {
        file: File,
        len: usize,
        sync: SyncMode,
    }

    /// Why a [`FileFlash`] operation failed.
    #[derive(Debug)]
    pub enum FileFlashError {
        /// The file could not be read or written.
        Io(io::Error),
        /// An offset or a length is not a multiple of the word (or page, for an erase).
        NotAligned,
        /// The operation reaches past the end of the flash.
        OutOfBounds,
    }

    impl NorFlashError for FileFlashError {
        fn kind(&self) -> NorFlashErrorKind {
            match self {
                Self::Io(_) => NorFlashErrorKind::Other,
                Self::NotAligned => NorFlashErrorKind::NotAligned,
                Self::OutOfBounds => NorFlashErrorKind::OutOfBounds,
            }
        }
    }

    impl From<io::Error> for FileFlashError {
        fn from(error: io::Error) -> Self {
            Self::Io(error)
        }
    }

    impl<const PAGE: usize, const WORD: usize> FileFlash<PAGE, WORD> {
        /// Opens the flash kept in `path`, `pages` pages long, creating it erased (all `0xFF`)
        /// if the file does not exist, and extending it erased if it is shorter. A longer file
        /// is refused ([`io::ErrorKind::InvalidInput`]): it was made for another geometry.
        pub fn open(path: impl AsRef<Path>, pages: usize) -> io::Result<Self> {
            let len = pages
                .checked_mul(PAGE)
                .filter(|&len| u32::try_from(len).is_ok() && WORD > 0 && PAGE.is_multiple_of(WORD))
                .ok_or_else(|| io::Error::from(io::ErrorKind::InvalidInput))?;
            let mut file = OpenOptions::new()
                .read(true)
                .write(true)
                .create(true)
                .truncate(false)
                .open(path)?;
            let existing = usize::try_from(file.metadata()?.len())
                .map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))?;
            if existing > len {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    "the file is longer than the flash",
                ));
            }
            if existing < len {
                file.seek(SeekFrom::Start(existing as u64))?;
                file.write_all(&vec![0xFF; len - existing])?;
                file.sync_data()?;
            }
            Ok(Self {
                file,
                len,
                sync: SyncMode::None,
            })
        }

        /// Sets whether writes and erases are synced before they return.
        pub fn with_sync(mut self, sync: SyncMode) -> Self {
            self.sync = sync;
            self
        }

        fn bounds(&self, offset: u32, len: usize, align: usize) -> Result<u64, FileFlashError> {
            let offset = offset as usize;
            if !offset.is_multiple_of(align) || !len.is_multiple_of(align) {
                return Err(FileFlashError::NotAligned);
            }
            match offset.checked_add(len) {
                Some(end) if end <= self.len => Ok(offset as u64),
                _ => Err(FileFlashError::OutOfBounds),
            }
        }

        fn put(&mut self, at: u64, bytes: &[u8]) -> Result<(), FileFlashError> {
            self.file.seek(SeekFrom::Start(at))?;
            self.file.write_all(bytes)?;
            if self.sync == SyncMode::Data {
                self.file.sync_data()?;
            }
            Ok(())
        }
    }

    impl<const PAGE: usize, const WORD: usize> ErrorType for FileFlash<PAGE, WORD> {
        type Error = FileFlashError;
    }

    impl<const PAGE: usize, const WORD: usize> ReadNorFlash for FileFlash<PAGE, WORD> {
        const READ_SIZE: usize = 1;

        async fn read(&mut self, offset: u32, bytes: &mut [u8]) -> Result<(), Self::Error> {
            let at = self.bounds(offset, bytes.len(), 1)?;
            self.file.seek(SeekFrom::Start(at))?;
            self.file.read_exact(bytes)?;
            Ok(())
        }

        fn capacity(&self) -> usize {
            self.len
        }
    }

    impl<const PAGE: usize, const WORD: usize> NorFlash for FileFlash<PAGE, WORD> {
        const WRITE_SIZE: usize = WORD;
        const ERASE_SIZE: usize = PAGE;

        async fn erase(&mut self, from: u32, to: u32) -> Result<(), Self::Error> {
            let len = to.checked_sub(from).ok_or(FileFlashError::OutOfBounds)?;
            let at = self.bounds(from, len as usize, PAGE)?;
            self.put(at, &vec![0xFF; len as usize])
        }

        async fn write(&mut self, offset: u32, bytes: &[u8]) -> Result<(), Self::Error> {
            let at = self.bounds(offset, bytes.len(), WORD)?;
            let mut old = vec![0; bytes.len()];
            self.file.seek(SeekFrom::Start(at))?;
            self.file.read_exact(&mut old)?;
            for (old, new) in old.iter_mut().zip(bytes) {
                *old &= new;
            }
            self.put(at, &old)
        }
    }

    /// Writing clears bits only, so a word may be written again to clear more.
    impl<const PAGE: usize, const WORD: usize> MultiwriteNorFlash for FileFlash<PAGE, WORD> {}
}

#[cfg(test)]
mod tests {
    use super::*;
    use sequential_storage::mock_flash::{MockFlashBase, WriteCountCheck};

    type Mock = MockFlashBase<4, 4, 64>;

    fn block_on<T>(future: impl Future<Output = T>) -> T {
        let mut future = core::pin::pin!(future);
        let mut cx = core::task::Context::from_waker(core::task::Waker::noop());
        loop {
            if let core::task::Poll::Ready(value) = future.as_mut().poll(&mut cx) {
                return value;
            }
        }
    }

    #[test]
    fn items_parse_as_records_commits_or_foreign() {
        let mut record = 7u32.to_le_bytes().to_vec();
        record.extend_from_slice(&3u32.to_le_bytes());
        record.extend_from_slice(b"abc");
        assert_eq!(
            Item::parse(&record),
            Item::Record {
                generation: 7,
                index: 3,
                record: b"abc"
            }
        );
        let mut commit = 7u32.to_le_bytes().to_vec();
        commit.extend_from_slice(&COMMIT.to_le_bytes());
        assert_eq!(Item::parse(&commit), Item::Commit { generation: 7 });
        commit.push(0);
        assert_eq!(Item::parse(&commit), Item::Foreign);
        for len in 0..HEADER {
            assert_eq!(Item::parse(&record[..len]), Item::Foreign);
        }
        assert_eq!(
            Item::parse(&record[..HEADER]),
            Item::Record {
                generation: 7,
                index: 3,
                record: b""
            }
        );
    }

    #[test]
    fn items_this_store_did_not_write_are_removed_at_load() {
        let range = Mock::FULL_FLASH_RANGE;
        let mut queue = QueueStorage::new(
            Mock::new(WriteCountCheck::TwiceDifferent, None, false),
            QueueConfig::new(range.clone()),
            Cache::new_uncached(),
        );
        let mut commit_with_data = [0u8; 12];
        commit_with_data[4..8].copy_from_slice(&COMMIT.to_le_bytes());
        for item in [&b"abc"[..], &commit_with_data, &[0; 8]] {
            block_on(queue.push(item, false)).unwrap();
        }
        let mut store = FlashStore::new(queue.destroy().0, range.clone()).unwrap();
        // The record of generation 0, index 0 (eight zero bytes) is the log.
        assert_eq!(block_on(store.load()), Ok(vec![vec![]]));
        let mut queue = QueueStorage::new(
            store.into_inner(),
            QueueConfig::new(range),
            Cache::new_uncached(),
        );
        let mut buffer = [0; 256];
        assert_eq!(block_on(queue.pop(&mut buffer)).unwrap().unwrap(), &[0; 8]);
        assert_eq!(block_on(queue.pop(&mut buffer)).unwrap(), None);
    }

    #[test]
    fn errors_read_well() {
        let error: FlashStoreError<()> = FlashStoreError::TooLarge { len: 300, max: 232 };
        assert_eq!(
            alloc::format!("{error}"),
            "a record of 300 bytes exceeds this flash store's maximum of 232 bytes"
        );
        assert_eq!(
            FlashStoreError::<()>::from(sequential_storage::Error::FullStorage),
            FlashStoreError::Full
        );
    }
}
