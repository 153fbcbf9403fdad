//! Leniency: explicit, per-action tolerance for peers that bend the specification.
//!
//! A session is strict by default: a payload that its schema rejects is answered with the
//! error the specification asks for. Real chargers bend the rules (extra fields, `null` for an
//! absent field, serial numbers longer than allowed, `AuthorizeRequest` for `Authorize`), and a
//! CSMS may choose to accept that from them, action by action, with a [`Leniency`]. Each fix
//! taken is reported as an [`Event::Leniency`](crate::Event::Leniency), so it can be logged and
//! raised with the charger's vendor.
//!
//! How the payload fixes work: the payload is decoded strictly first, so valid payloads pay
//! nothing. When that fails with a fault a fix allows, the payload is read into a
//! `serde_json::Value`, the value at the error's JSON pointer is fixed (removed, or cut to its
//! length limit), and the decode is tried again, up to [`MAX_FIXES`] times. If it still fails,
//! the message is refused as in strict mode, and no fix is reported.

use alloc::string::{String, ToString};
use alloc::vec::Vec;

use ocpp_types::{DecodeError, ErrorKind};
use serde_json::Value;

use crate::id::MessageId;

/// The most fixes applied to one payload before giving up on it.
pub const MAX_FIXES: usize = 64;

/// Which leniencies to apply (each off by default).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct Fixes {
    /// Accept and drop properties the schema does not define (`additionalProperties: false`).
    pub drop_unknown_fields: bool,
    /// Treat a `null` property as absent (it is then still refused if the property is
    /// required).
    pub null_as_absent: bool,
    /// Accept strings longer than their `maxLength`, cut to the limit.
    pub truncate_long_strings: bool,
    /// Accept an action name with a `Request` suffix (`AuthorizeRequest` for `Authorize`), as
    /// seen at plugfests. Applies to CALL and SEND action names.
    pub strip_request_suffix: bool,
}

impl Fixes {
    /// No leniency.
    pub const NONE: Fixes = Fixes {
        drop_unknown_fields: false,
        null_as_absent: false,
        truncate_long_strings: false,
        strip_request_suffix: false,
    };

    /// Every leniency.
    pub const ALL: Fixes = Fixes {
        drop_unknown_fields: true,
        null_as_absent: true,
        truncate_long_strings: true,
        strip_request_suffix: true,
    };

    /// Whether any payload fix is on.
    pub const fn fixes_payloads(self) -> bool {
        self.drop_unknown_fields || self.null_as_absent || self.truncate_long_strings
    }

    /// Whether the fix for this kind of fault is on.
    fn allows(self, kind: ErrorKind) -> bool {
        match kind {
            ErrorKind::UnexpectedField => self.drop_unknown_fields,
            ErrorKind::Type => self.null_as_absent,
            ErrorKind::Length => self.truncate_long_strings,
            _ => false,
        }
    }
}

/// The leniency of a session: fixes for every action, and overrides for some.
///
/// ```
/// use ocpp_rpc::{Fixes, Leniency};
/// // Strict, except that BootNotification may carry over-long strings and unknown fields.
/// let leniency = Leniency::strict().action(
///     "BootNotification",
///     Fixes { truncate_long_strings: true, drop_unknown_fields: true, ..Fixes::NONE },
/// );
/// assert!(leniency.fixes_for("BootNotification").truncate_long_strings);
/// assert_eq!(leniency.fixes_for("Heartbeat"), Fixes::NONE);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Leniency {
    all: Fixes,
    actions: Vec<(String, Fixes)>,
}

impl Leniency {
    /// No leniency at all (the default).
    pub fn strict() -> Leniency {
        Leniency::default()
    }

    /// The same fixes for every action.
    pub fn all_actions(fixes: Fixes) -> Leniency {
        Leniency {
            all: fixes,
            actions: Vec::new(),
        }
    }

    /// Sets the fixes for one action (by its name without suffix), replacing those for every
    /// action.
    pub fn action(mut self, action: &str, fixes: Fixes) -> Leniency {
        self.actions.retain(|(name, _)| name != action);
        self.actions.push((action.to_string(), fixes));
        self
    }

    /// The fixes that apply to `action`.
    pub fn fixes_for(&self, action: &str) -> Fixes {
        self.actions
            .iter()
            .find(|(name, _)| name == action)
            .map_or(self.all, |&(_, fixes)| fixes)
    }

    /// Whether no fix is on for any action.
    pub fn is_strict(&self) -> bool {
        self.all == Fixes::NONE && self.actions.iter().all(|(_, fixes)| *fixes == Fixes::NONE)
    }
}

/// A fix that was applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LeniencyKind {
    /// A property the schema does not define was dropped.
    DroppedUnknownField,
    /// A `null` property was dropped.
    DroppedNull,
    /// A string was cut to its maximum length.
    TruncatedString {
        /// The limit, in characters.
        max: usize,
    },
    /// A `Request` suffix was removed from the action name.
    StrippedRequestSuffix,
}

/// A leniency taken on an incoming message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeniencyEvent {
    /// The message's id.
    pub message_id: MessageId,
    /// The action (without the suffix).
    pub action: &'static str,
    /// JSON pointer to what was fixed in the payload (`""` for the action name).
    pub pointer: String,
    /// What was done.
    pub kind: LeniencyKind,
}

/// Decodes `payload` with `decode`, applying the payload fixes `fixes` allows. The fixes taken
/// are appended to `taken` (only on success).
///
/// Strict decoding costs nothing extra: only a payload that fails is parsed into a `Value`, once;
/// each fix edits that value where the structured [`DecodeError`] points (its kind, pointer and
/// [`max_length`](DecodeError::max_length)), and the value is written back to text for the next
/// typed decode. Decoding from text each time, rather than from the `Value` itself, keeps one
/// decoder per message type in the binary (firmware links every decoder it can reach).
pub(crate) fn decode_lenient<T>(
    payload: &str,
    fixes: Fixes,
    decode: impl Fn(&str) -> Result<T, DecodeError>,
    taken: &mut Vec<(String, LeniencyKind)>,
) -> Result<T, DecodeError> {
    let first = match decode(payload) {
        Ok(value) => return Ok(value),
        Err(error) => error,
    };
    if !fixes.allows(first.kind()) {
        return Err(first);
    }
    let Ok(mut value) = serde_json::from_str::<Value>(payload) else {
        return Err(first);
    };
    let mark = taken.len();
    let mut error = first;
    for _ in 0..MAX_FIXES {
        if !fixes.allows(error.kind()) {
            break;
        }
        let Some((pointer, kind)) = fix(&mut value, &error) else {
            break;
        };
        let Ok(text) = serde_json::to_string(&value) else {
            break;
        };
        match decode(&text) {
            Ok(decoded) => {
                taken.push((pointer, kind));
                return Ok(decoded);
            }
            // Dropping a `null` that is required only turns a type error into a missing one:
            // report the fault as received.
            Err(next) if next.pointer() == pointer && kind == LeniencyKind::DroppedNull => break,
            Err(next) => {
                taken.push((pointer, kind));
                error = next;
            }
        }
    }
    taken.truncate(mark);
    Err(error)
}

/// Drops `key` from the object `value`; `None` if it is not an object with that key. The
/// object is rebuilt without it rather than removed from (a fix is rare; a map's removal,
/// rebalancing included, is code a firmware need not carry for it).
fn drop_property(value: &mut Value, key: &str) -> Option<()> {
    let object = value.as_object_mut()?;
    if !object.contains_key(key) {
        return None;
    }
    for (name, property) in core::mem::take(object) {
        if name != key {
            object.insert(name, property);
        }
    }
    Some(())
}

/// Applies the fix for `error` to `value`: the pointer it fixed and what it did.
fn fix(value: &mut Value, error: &DecodeError) -> Option<(String, LeniencyKind)> {
    match error.kind() {
        ErrorKind::UnexpectedField => {
            // The pointer names the unknown property itself.
            let pointer = error.pointer();
            let (parent, token) = pointer.rsplit_once('/')?;
            drop_property(value.pointer_mut(parent)?, &unescape(token))?;
            Some((String::from(pointer), LeniencyKind::DroppedUnknownField))
        }
        ErrorKind::Type => {
            let pointer = error.pointer();
            if !value.pointer(pointer)?.is_null() {
                return None;
            }
            let (parent, token) = pointer.rsplit_once('/')?;
            drop_property(value.pointer_mut(parent)?, &unescape(token))?;
            Some((String::from(pointer), LeniencyKind::DroppedNull))
        }
        ErrorKind::Length => {
            let max = error.max_length()?;
            let Value::String(text) = value.pointer_mut(error.pointer())? else {
                return None;
            };
            let end = text.char_indices().nth(max)?.0;
            text.truncate(end);
            Some((
                String::from(error.pointer()),
                LeniencyKind::TruncatedString { max },
            ))
        }
        _ => None,
    }
}

fn unescape(token: &str) -> String {
    token.replace("~1", "/").replace("~0", "~")
}
