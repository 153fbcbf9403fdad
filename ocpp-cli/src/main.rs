//! `ocpp`: command-line tools for OCPP 1.6, 2.0.1 and 2.1. See `ocpp --help`.

use std::io::{self, BufReader};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use ocpp_cli::{generate, parse_version, validate};
use ocpp_rpc::AnyAction;
use ocpp_types::OcppVersion;

#[derive(Parser)]
#[command(
    name = "ocpp",
    version,
    about = "Tools for OCPP 1.6, 2.0.1 and 2.1 (OCPP-J)"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Check OCPP-J frames, one per line, against the official schemas.
    ///
    /// A CALL is checked against its action's request schema, a CALLRESULT against the response
    /// schema of the earlier CALL with the same message id. Prints one line per input line:
    /// `ok`, or `error <OCPP error code> <location>: <reason>`, where the location is a JSON
    /// pointer into the payload in URI-fragment form (`#` is the whole payload or frame,
    /// `#/chargingStation/model` a field). Exits 0 only if every line is ok, 1 otherwise, 2 if
    /// the input cannot be read.
    Validate {
        /// OCPP version of the frames: 1.6, 2.0.1 or 2.1.
        #[arg(long = "ocpp", value_parser = parse_version)]
        version: OcppVersion,
        /// File of frames, one per line (standard input without it).
        file: Option<PathBuf>,
    },
    /// Print schema-valid random CALL frames, reproducible by seed.
    Gen {
        /// OCPP version: 1.6, 2.0.1 or 2.1.
        #[arg(long = "ocpp", value_parser = parse_version)]
        version: OcppVersion,
        /// Only this action (e.g. BootNotification); every action of the version without it.
        #[arg(long)]
        action: Option<String>,
        /// Number of CALL (or 2.1 SEND) frames.
        #[arg(long, default_value_t = 10)]
        count: u64,
        /// Seed of the random generator: the same seed prints the same frames.
        #[arg(long, default_value_t = 0)]
        seed: u64,
        /// Follow each CALL with a matching CALLRESULT.
        #[arg(long)]
        responses: bool,
    },
}

fn main() -> ExitCode {
    match Cli::parse().command {
        Command::Validate { version, file } => {
            let summary = match file {
                Some(path) => std::fs::File::open(&path)
                    .and_then(|f| validate::run(version, BufReader::new(f), io::stdout().lock()))
                    .map_err(|e| format!("cannot read {}: {e}", path.display())),
                None => validate::run(version, io::stdin().lock(), io::stdout().lock())
                    .map_err(|e| format!("cannot read standard input: {e}")),
            };
            match summary {
                Ok(summary) if summary.errors == 0 => ExitCode::SUCCESS,
                Ok(_) => ExitCode::from(1),
                Err(message) => fail(&message),
            }
        }
        Command::Gen {
            version,
            action,
            count,
            seed,
            responses,
        } => {
            let action = match action {
                None => None,
                Some(name) => match AnyAction::from_name(version, &name) {
                    Some(action) => Some(action),
                    None => {
                        let names: Vec<_> = generate::actions(version)
                            .iter()
                            .map(|a| a.as_str())
                            .collect();
                        return fail(&format!(
                            "OCPP {version} has no action {name:?}; its actions are: {}",
                            names.join(", ")
                        ));
                    }
                },
            };
            let options = generate::Options {
                version,
                action,
                count,
                seed,
                responses,
            };
            match generate::run(&options, io::stdout().lock()) {
                Ok(()) => ExitCode::SUCCESS,
                // A closed pipe (`ocpp gen | head`) is the reader's choice, not a failure.
                Err(e) if e.kind() == io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
                Err(e) => fail(&format!("cannot write: {e}")),
            }
        }
    }
}

fn fail(message: &str) -> ExitCode {
    eprintln!("ocpp: {message}");
    ExitCode::from(2)
}
