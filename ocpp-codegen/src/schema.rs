//! Loading a schema folder: one file per message.

use std::path::Path;

use serde_json::Value;

use crate::{Error, Version, bail};

/// Whether a schema is a request, its response, or a 2.1 SEND message (no response).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum MessageKind {
    /// The payload of a CALL.
    Request,
    /// The payload of the CALLRESULT that answers it.
    Response,
    /// The payload of a SEND (OCPP 2.1): unconfirmed, no response.
    Send,
}

/// One message schema, as read from its file.
#[derive(Debug, Clone)]
pub struct MessageSchema {
    /// The action, e.g. `BootNotification`.
    pub action: String,
    /// Request, response or SEND.
    pub kind: MessageKind,
    /// The file name, for error messages.
    pub file: String,
    /// The parsed schema.
    pub schema: Value,
}

impl MessageSchema {
    /// The Rust name of the message type: `<Action>Request`, `<Action>Response`, or the
    /// schema's own name for SEND messages.
    pub fn type_name(&self) -> String {
        match self.kind {
            MessageKind::Request => format!("{}Request", self.action),
            MessageKind::Response => format!("{}Response", self.action),
            MessageKind::Send => self.action.clone(),
        }
    }
}

/// Reads every `*.json` in `dir`, sorted by file name so that output is deterministic.
pub fn load(version: Version, dir: &Path) -> Result<Vec<MessageSchema>, Error> {
    let entries = std::fs::read_dir(dir)
        .map_err(|e| Error(format!("cannot read schema folder {}: {e}", dir.display())))?;
    let mut files = Vec::new();
    for entry in entries {
        let path = entry
            .map_err(|e| Error(format!("{}: {e}", dir.display())))?
            .path();
        if path.extension().is_some_and(|ext| ext == "json") {
            files.push(path);
        }
    }
    files.sort();
    if files.is_empty() {
        bail!("no *.json schemas in {}", dir.display());
    }
    let mut schemas = Vec::with_capacity(files.len());
    for path in files {
        let file = path
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned();
        let bytes = std::fs::read(&path)
            .map_err(|e| Error(format!("cannot read {}: {e}", path.display())))?;
        // Some published schema files start with a UTF-8 byte order mark.
        let text = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&bytes);
        let schema: Value =
            serde_json::from_slice(text).map_err(|e| Error(format!("{file}: not JSON: {e}")))?;
        let stem = file.trim_end_matches(".json");
        let (action, kind) = classify(version, stem);
        schemas.push(MessageSchema {
            action: action.to_owned(),
            kind,
            file,
            schema,
        });
    }
    Ok(schemas)
}

/// Tells the action and kind from a file name: 2.x `XRequest`/`XResponse`, 1.6 `X`/`XResponse`,
/// and 2.1's SEND message `NotifyPeriodicEventStream`.
fn classify(version: Version, stem: &str) -> (&str, MessageKind) {
    if let Some(action) = stem.strip_suffix("Response") {
        (action, MessageKind::Response)
    } else if let Some(action) = stem.strip_suffix("Request") {
        (action, MessageKind::Request)
    } else if version == Version::V16 {
        (stem, MessageKind::Request)
    } else {
        (stem, MessageKind::Send)
    }
}
