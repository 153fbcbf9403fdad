//! Sealing a torn item header: the part of [`FlashStore`](super::FlashStore) that reads
//! `sequential-storage` 8's item headers itself.
//!
//! `sequential-storage` writes an item as its header (data CRC-32 `u32`, length `u16`, CRC-16
//! of the length `u16`, padded to the flash word `W`) and then its data. To find where the
//! next item goes it walks the headers of the page it appends to: a header whose length CRC
//! holds (and whose item fits in the page) leads past its item; anything else is corrupt and
//! the walk goes on one word later; the first all-erased header slot is the free spot.
//!
//! A power cut during a header write leaves a torn header: corrupt words, then erased ones.
//! The walk steps over the corrupt words and the next item lands right after them, on a word
//! the cut may have half programmed (reads erased, yet was written once: a third write when
//! the item is popped; on flash that counts writes, such as the nRF52's two per word, out of
//! specification), and whose header the walk can later read *through* the torn bytes: a torn
//! word plus the new header's first bytes pass the length CRC one time in 65 536, and that
//! phantom header leads past the new item, which is then lost after a restart
//! (tweedegolf/sequential-storage#136, open in 8.0.2).
//!
//! So after every scan the store looks at the page being appended to, and if its headers end
//! in corruption it seals them: zeros over one header slot from the free spot (the words a
//! cut may have half programmed, now fully programmed), then an *erased* item of length 0
//! (data CRC 0: the walk leads past it, nothing ever pops it). The next item goes after it, on
//! words never written, and the walk reaches it through the seal; [`plan`] checks, on the
//! bytes as they will be, that no phantom header between the torn one and the seal leads past
//! the seal, moving the seal a word later until none does. Where no seal fits, the rest of the
//! page is zeroed: nothing fits there any more and the next item goes to the next page.

use alloc::vec;
use core::ops::Range;

/// The CRC-16 `sequential-storage` 8 keeps of an item's length: reflected polynomial 0x1A2E
/// (CRC-16F/4.2 in Koopman's tables), initial value and final XOR 0xFFFF, and 0xFFFF (what
/// erased flash reads) replaced by 0xFFFE.
pub(super) fn crc16(bytes: &[u8]) -> u16 {
    let mut crc = bytes.iter().fold(0xFFFF_u16, |mut crc, &byte| {
        crc ^= u16::from(byte);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0x1A2E
            } else {
                crc >> 1
            };
        }
        crc
    });
    crc ^= 0xFFFF;
    if crc == 0xFFFF { 0xFFFE } else { crc }
}

/// The geometry of the headers: the flash word and the header slot (8 bytes rounded up to it).
#[derive(Debug, Clone, Copy)]
pub(super) struct Headers {
    pub word: u32,
    pub slot: u32,
}

impl Headers {
    /// The header of an erased item of length 0: data CRC 0, length 0 and its CRC, the rest of
    /// the slot erased.
    pub fn erased_empty(self, slot: &mut [u8]) {
        slot.fill(0xFF);
        slot[..6].fill(0);
        slot[6..8].copy_from_slice(&crc16(&[0, 0]).to_le_bytes());
    }

    /// Where the item of a header slot at `at` holding `bytes` (at least 8) ends, if the
    /// header is valid: its length CRC holds and the item ends by `end`. The walk goes there,
    /// or one word on if the header is corrupt.
    pub fn item_end(self, at: u32, bytes: &[u8], end: u32) -> Option<u32> {
        let length = u16::from_le_bytes([bytes[4], bytes[5]]);
        let crc = u16::from_le_bytes([bytes[6], bytes[7]]);
        let next = at + self.slot + u32::from(length).next_multiple_of(self.word);
        (crc == crc16(&bytes[4..6]) && next <= end).then_some(next)
    }
}

/// What to write to seal a torn tail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Seal {
    /// Written with zeros.
    pub zeros: Range<u32>,
    /// Where the erased empty item goes (right after the zeros), if one fits.
    pub erased_at: Option<u32>,
}

/// The seal for a page whose walk meets corruption at `torn` and ends at the free spot
/// `free` (`torn < free`, both word-aligned, `free` + a slot ≤ `end`, the end of the page's
/// item area), `torn_bytes` being what the flash holds in `torn..free`.
pub(super) fn plan(headers: Headers, torn_bytes: &[u8], torn: u32, free: u32, end: u32) -> Seal {
    let Headers { word, slot } = headers;
    let mut image = torn_bytes.to_vec();
    let mut erased = vec![0xFF; slot as usize];
    headers.erased_empty(&mut erased);
    let mut at = free + slot;
    while at + slot <= end {
        // The bytes from `torn` to the end of the erased item, as they will be.
        image.truncate(torn_bytes.len());
        image.resize((at - torn) as usize, 0);
        image.extend_from_slice(&erased);
        let mut walk = torn;
        while walk < at {
            let from = (walk - torn) as usize;
            walk = headers
                .item_end(walk, &image[from..from + 8], end)
                .unwrap_or(walk + word);
        }
        if walk == at {
            return Seal {
                zeros: free..at,
                erased_at: Some(at),
            };
        }
        at += word;
    }
    Seal {
        zeros: free..end,
        erased_at: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEADERS: Headers = Headers { word: 4, slot: 8 };

    #[test]
    fn the_length_crc_is_the_one_sequential_storage_writes() {
        // A header written by sequential-storage 8.0.2 for an item of 255 bytes (read off its
        // mock flash): length ff 00, CRC e1 e1.
        assert_eq!(crc16(&[0xFF, 0x00]), 0xE1E1);
        // Zeros are corrupt: what the seal's zeros read as.
        assert_ne!(crc16(&[0, 0]), 0);
    }

    #[test]
    fn a_header_is_valid_if_its_length_crc_holds_and_its_item_fits() {
        let mut valid = [0u8; 8];
        valid[4..6].copy_from_slice(&10u16.to_le_bytes());
        valid[6..8].copy_from_slice(&crc16(&10u16.to_le_bytes()).to_le_bytes());
        assert_eq!(HEADERS.item_end(100, &valid, 1000), Some(100 + 8 + 12));
        // Past the end of the page: corrupt.
        assert_eq!(HEADERS.item_end(100, &valid, 110), None);
        valid[6] ^= 1;
        assert_eq!(HEADERS.item_end(100, &valid, 1000), None);
    }

    #[test]
    fn a_seal_is_zeros_over_one_slot_then_an_erased_empty_item() {
        // A header torn after its data CRC: one written word, then erased flash.
        let torn = [0xBD, 0x1D, 0x02, 0x56];
        let seal = plan(HEADERS, &torn, 1028, 1032, 2044);
        assert_eq!(
            seal,
            Seal {
                zeros: 1032..1040,
                erased_at: Some(1040)
            }
        );
        let mut erased = [0; 8];
        HEADERS.erased_empty(&mut erased);
        assert_eq!(HEADERS.item_end(1040, &erased, 2044), Some(1048));
    }

    #[test]
    fn a_phantom_header_through_the_torn_bytes_moves_the_seal() {
        // Torn bytes in which a header passes the length CRC (one in 65 536), of an item
        // that ends past the first place for the seal (1032 + 8): the seal goes where the walk
        // lands.
        let length = 40u16;
        let crc = crc16(&length.to_le_bytes()).to_le_bytes();
        let torn = [1, 2, 3, 4, length as u8, 0, crc[0], crc[1]];
        let seal = plan(HEADERS, &torn, 1024, 1032, 2044);
        let lands = 1024 + 8 + 40;
        assert_eq!(seal.erased_at, Some(lands));
        assert_eq!(seal.zeros, 1032..lands);
    }

    #[test]
    fn where_no_seal_fits_the_rest_of_the_page_is_zeroed() {
        let torn = [0xBD, 0x1D, 0x02, 0x56];
        assert_eq!(
            plan(HEADERS, &torn, 1028, 1032, 1044),
            Seal {
                zeros: 1032..1044,
                erased_at: None
            }
        );
    }
}
