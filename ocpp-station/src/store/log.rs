//! The on-storage framing of a log, shared by every byte-oriented store.
//!
//! A log is its records one after the other, each framed as
//!
//! ```text
//! len: u32 LE | crc: u32 LE | record: len bytes
//! ```
//!
//! where `crc` is the CRC-32 (IEEE, as `crc32fast` computes it) of the four `len` bytes followed
//! by the record. The length is covered by the checksum so that a run of zero bytes (what a file
//! can read back as after a crash that extended it without writing it) is not taken for a string
//! of empty records, and so that a damaged length cannot pass for a shorter, valid record.
//!
//! A reader takes records from the start and stops at the first one whose header is incomplete,
//! whose length exceeds [`MAX_RECORD`] or runs past the end of the bytes, or whose checksum does
//! not match: that record and everything after it are a torn or damaged tail, to be discarded.
//! Erased flash (`0xFF` bytes) reads as a length over the maximum, so it ends a log too.

use alloc::vec::Vec;
use core::fmt;

/// The bytes a record takes on storage beyond its own: the length and the checksum.
pub const RECORD_OVERHEAD: usize = 8;

/// The longest record a log holds, in bytes. Stores refuse longer ones with [`RecordTooLarge`],
/// and a reader takes a longer length in a header for damage.
pub const MAX_RECORD: usize = 64 * 1024;

/// A record longer than [`MAX_RECORD`] was given to be written; nothing was written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecordTooLarge {
    /// The length of the refused record, in bytes.
    pub len: usize,
}

impl fmt::Display for RecordTooLarge {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "a record of {} bytes exceeds the maximum of {MAX_RECORD} bytes",
            self.len
        )
    }
}

impl core::error::Error for RecordTooLarge {}

/// The length header of `record`, or an error if it is longer than [`MAX_RECORD`].
fn length_header(record: &[u8]) -> Result<[u8; 4], RecordTooLarge> {
    let too_large = RecordTooLarge { len: record.len() };
    if record.len() > MAX_RECORD {
        return Err(too_large);
    }
    let len = u32::try_from(record.len()).map_err(|_| too_large)?;
    Ok(len.to_le_bytes())
}

/// The checksum stored in a record's header.
fn checksum(len: &[u8; 4], record: &[u8]) -> u32 {
    let mut hasher = crc32fast::Hasher::new();
    hasher.update(len);
    hasher.update(record);
    hasher.finalize()
}

/// Checks that every record can be written: an error for the first one longer than
/// [`MAX_RECORD`]. A store calls it before writing anything of a batch.
pub fn check_records(records: &[Vec<u8>]) -> Result<(), RecordTooLarge> {
    match records.iter().find(|record| record.len() > MAX_RECORD) {
        Some(record) => Err(RecordTooLarge { len: record.len() }),
        None => Ok(()),
    }
}

/// Appends `record`, framed, to `out`: [`RECORD_OVERHEAD`] + `record.len()` bytes.
///
/// A record longer than [`MAX_RECORD`] is refused and `out` is left as it was (such a record
/// could not be read back, and everything after it would be lost).
pub fn encode_record(record: &[u8], out: &mut Vec<u8>) -> Result<(), RecordTooLarge> {
    let len = length_header(record)?;
    out.reserve(RECORD_OVERHEAD + record.len());
    out.extend_from_slice(&len);
    out.extend_from_slice(&checksum(&len, record).to_le_bytes());
    out.extend_from_slice(record);
    Ok(())
}

/// The first record framed at the start of `bytes` and the number of bytes its frame takes, or
/// `None` if there is no complete, intact record there.
pub fn decode_record(bytes: &[u8]) -> Option<(&[u8], usize)> {
    let (len, rest) = bytes.split_first_chunk::<4>()?;
    let (crc, rest) = rest.split_first_chunk::<4>()?;
    let record_len = usize::try_from(u32::from_le_bytes(*len)).ok()?;
    if record_len > MAX_RECORD {
        return None;
    }
    let record = rest.get(..record_len)?;
    if checksum(len, record) != u32::from_le_bytes(*crc) {
        return None;
    }
    Some((record, RECORD_OVERHEAD + record_len))
}

/// Decodes a log: its records in order up to the first torn or damaged one, and the length of
/// the valid prefix of `bytes` that holds them (where the next record must be written).
///
/// Never panics, whatever the bytes.
pub fn decode_log(bytes: &[u8]) -> (Vec<Vec<u8>>, usize) {
    let mut records = Vec::new();
    let mut valid = 0;
    while let Some((record, framed)) = bytes.get(valid..).and_then(decode_record) {
        records.push(record.to_vec());
        valid += framed;
    }
    (records, valid)
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;
    use proptest::prelude::*;

    fn encode_all(records: &[Vec<u8>]) -> Vec<u8> {
        let mut out = Vec::new();
        for record in records {
            encode_record(record, &mut out).unwrap();
        }
        out
    }

    /// A record of `len` bytes that differs from the others of the same test.
    fn record(len: usize, seed: u8) -> Vec<u8> {
        (0..len)
            .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed))
            .collect()
    }

    #[test]
    fn records_of_every_size_round_trip() {
        let records: Vec<Vec<u8>> = [0, 1, 1000, MAX_RECORD]
            .iter()
            .enumerate()
            .map(|(i, &len)| record(len, i as u8))
            .collect();
        for one in &records {
            let bytes = encode_all(core::slice::from_ref(one));
            assert_eq!(bytes.len(), RECORD_OVERHEAD + one.len());
            assert_eq!(decode_log(&bytes), (vec![one.clone()], bytes.len()));
        }
        let bytes = encode_all(&records);
        assert_eq!(decode_log(&bytes), (records.clone(), bytes.len()));
    }

    #[test]
    fn the_frame_is_length_checksum_record() {
        let bytes = encode_all(&[b"abc".to_vec()]);
        assert_eq!(bytes[..4], 3u32.to_le_bytes());
        let mut covered = 3u32.to_le_bytes().to_vec();
        covered.extend_from_slice(b"abc");
        assert_eq!(bytes[4..8], crc32fast::hash(&covered).to_le_bytes());
        assert_eq!(&bytes[8..], b"abc");
    }

    #[test]
    fn a_record_over_the_maximum_is_refused_and_nothing_written() {
        let mut out = b"before".to_vec();
        let long = vec![7; MAX_RECORD + 1];
        assert_eq!(
            encode_record(&long, &mut out),
            Err(RecordTooLarge {
                len: MAX_RECORD + 1
            })
        );
        assert_eq!(out, b"before");
        assert_eq!(
            check_records(&[vec![1], long, vec![2; MAX_RECORD + 5]]),
            Err(RecordTooLarge {
                len: MAX_RECORD + 1
            })
        );
        assert_eq!(check_records(&[vec![], vec![1; MAX_RECORD]]), Ok(()));
    }

    #[test]
    fn a_header_claiming_more_than_the_maximum_ends_the_log() {
        // A well-formed frame of MAX_RECORD + 1 bytes, checksum and all: still refused.
        let long = vec![5; MAX_RECORD + 1];
        let len = u32::try_from(long.len()).unwrap().to_le_bytes();
        let mut bytes = encode_all(&[b"first".to_vec()]);
        let first = bytes.len();
        bytes.extend_from_slice(&len);
        bytes.extend_from_slice(&checksum(&len, &long).to_le_bytes());
        bytes.extend_from_slice(&long);
        assert_eq!(decode_log(&bytes), (vec![b"first".to_vec()], first));
    }

    #[test]
    fn every_prefix_decodes_to_the_complete_records_within_it() {
        let records = vec![record(5, 1), record(0, 2), record(300, 3)];
        let bytes = encode_all(&records);
        let ends = [13, 21, bytes.len()];
        assert_eq!(ends[2], 13 + 8 + 308);
        for cut in 0..=bytes.len() {
            let complete = ends.iter().filter(|&&end| end <= cut).count();
            let valid = if complete == 0 { 0 } else { ends[complete - 1] };
            assert_eq!(
                decode_log(&bytes[..cut]),
                (records[..complete].to_vec(), valid),
                "prefix of {cut} bytes"
            );
        }
    }

    #[test]
    fn a_flipped_bit_anywhere_drops_that_record_and_the_ones_after() {
        let records = vec![record(5, 1), record(0, 2), record(40, 3)];
        let bytes = encode_all(&records);
        let starts = [0, 13, 21];
        for byte in 0..bytes.len() {
            let hit = starts.iter().filter(|&&start| start <= byte).count() - 1;
            for bit in 0..8 {
                let mut damaged = bytes.clone();
                damaged[byte] ^= 1 << bit;
                assert_eq!(
                    decode_log(&damaged),
                    (records[..hit].to_vec(), starts[hit]),
                    "bit {bit} of byte {byte}"
                );
            }
        }
    }

    #[test]
    fn zeroed_or_erased_bytes_are_not_records() {
        for filler in [0x00, 0xFF] {
            assert_eq!(decode_log(&[filler; 64]), (vec![], 0));
            let mut bytes = encode_all(&[b"kept".to_vec()]);
            let valid = bytes.len();
            bytes.extend_from_slice(&[filler; 100]);
            assert_eq!(decode_log(&bytes), (vec![b"kept".to_vec()], valid));
        }
    }

    proptest! {
        #[test]
        fn garbage_never_panics_and_the_valid_prefix_is_exactly_its_records(
            bytes in proptest::collection::vec(any::<u8>(), 0..600)
        ) {
            let (records, valid) = decode_log(&bytes);
            prop_assert!(valid <= bytes.len());
            prop_assert_eq!(encode_all(&records), &bytes[..valid]);
        }

        #[test]
        fn records_followed_by_garbage_are_all_kept(
            records in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..80), 0..8),
            garbage in proptest::collection::vec(any::<u8>(), 0..100),
        ) {
            let mut bytes = encode_all(&records);
            let good = bytes.len();
            bytes.extend_from_slice(&garbage);
            let (decoded, valid) = decode_log(&bytes);
            prop_assert!(valid >= good);
            prop_assert_eq!(&decoded[..records.len()], &records[..]);
        }
    }
}
