//! `ocpp gen`: schema-valid random frames, reproducible by seed.
//!
//! Each frame is a CALL of a random action of the version (or of the one asked for), or for
//! 2.1's SEND-only actions a SEND; with responses, each CALL is followed by a CALLRESULT with
//! the same message id and a random valid response. Message ids count up from 1. The same
//! version, options and seed always give the same bytes.

use std::io::{self, Write};

use ocpp_rpc::frame::{encode_call, encode_call_result, encode_send};
use ocpp_rpc::{AnyAction, AnyRequest, AnyResponse};
use ocpp_types::OcppVersion;
use ocpp_types::random::{Gen, SplitMix64};

/// What to generate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    /// The OCPP version.
    pub version: OcppVersion,
    /// Only this action (every action of the version when `None`).
    pub action: Option<AnyAction>,
    /// How many CALL (or SEND) frames.
    pub count: u64,
    /// The seed of the random source.
    pub seed: u64,
    /// Follow each CALL with a matching CALLRESULT.
    pub responses: bool,
}

/// Writes the frames `options` asks for to `output`, one per line.
pub fn run(options: &Options, output: impl Write) -> io::Result<()> {
    let mut output = io::BufWriter::new(output);
    let actions = match options.action {
        Some(action) => vec![action],
        None => AnyAction::all(options.version),
    };
    let mut source = SplitMix64(options.seed);
    let mut g = Gen::new(&mut source);
    for n in 1..=options.count {
        let action = *g.pick(&actions);
        let id = n.to_string();
        let Some(request) = AnyRequest::generate(action, &mut g) else {
            return Err(io::Error::other(format!("{action} has no request message")));
        };
        let frame = match action.has_response() {
            true => encode_call(&id, action.as_str(), &request),
            false => encode_send(&id, action.as_str(), &request),
        };
        output.write_all(&frame?)?;
        output.write_all(b"\n")?;
        if let Some(response) = options
            .responses
            .then(|| AnyResponse::generate(action, &mut g))
            .flatten()
        {
            output.write_all(&encode_call_result(&id, &response)?)?;
            output.write_all(b"\n")?;
        }
    }
    output.flush()
}
