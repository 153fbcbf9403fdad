//! `ocpp`: command-line tools for OCPP 1.6, 2.0.1 and 2.1. See `ocpp --help`.

use std::io::{self, BufReader, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use std::time::Duration;

use ocpp_cli::transcript::Transcript;
use ocpp_cli::{csms, demo, generate, parse_version, station, validate};
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
    /// Run a CSMS and a charging station on loopback through one charging session, printing
    /// every frame between them.
    ///
    /// BootNotification, StatusNotification, Heartbeat, Authorize, then on 1.6 StartTransaction,
    /// MeterValues and StopTransaction, on 2.x TransactionEvent Started, Updated and Ended.
    /// Exits 0 when every call was answered validly.
    Demo {
        /// OCPP version: 1.6, 2.0.1 or 2.1.
        #[arg(long = "ocpp", value_parser = parse_version, default_value = "2.0.1")]
        version: OcppVersion,
    },
    /// Run a demo CSMS that admits any station at ws://ADDR/ANY/PATH/IDENTITY (the identity is
    /// the last path segment) and answers every call validly, printing every frame as
    /// `sender → receiver  frame`. Stops on Ctrl-C (closing connections with 1001).
    Csms {
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1:9000")]
        listen: std::net::SocketAddr,
        /// Admit stations only below this path (`/ocpp` admits ws://ADDR/ocpp/IDENTITY only).
        #[arg(long = "path-prefix", value_parser = csms::StationPath::prefix)]
        path_prefix: Option<csms::StationPath>,
        /// OCPP versions accepted, in order of preference, comma-separated.
        #[arg(long = "ocpp", value_parser = parse_version, value_delimiter = ',',
              default_value = "2.0.1,2.1,1.6")]
        versions: Vec<OcppVersion>,
    },
    /// Run a scripted charging station against a CSMS: one charging session, every answer
    /// checked, every frame printed. Exits 0 only if every call was answered validly, 1 if one
    /// was not, 3 if no connection could be made.
    Station {
        /// The CSMS's URL, ending in the station's identity: ws://HOST:PORT/PATH/ID.
        #[arg(long)]
        url: String,
        /// OCPP version: 1.6, 2.0.1 or 2.1.
        #[arg(long = "ocpp", value_parser = parse_version, default_value = "2.0.1")]
        version: OcppVersion,
        /// What to do once connected (only `charge`: one charging session).
        #[arg(long, value_enum, default_value = "charge")]
        scenario: Scenario,
    },
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

/// The scripted station's scenarios.
#[derive(Clone, Copy, clap::ValueEnum)]
enum Scenario {
    /// One charging session.
    Charge,
}

fn main() -> ExitCode {
    match Cli::parse().command {
        Command::Demo { version } => {
            let transcript = Transcript::stdout();
            let result = runtime().block_on(demo::run(version, transcript.clone()));
            transcript.flush(FLUSH);
            match result {
                Ok(calls) => {
                    say(&format!(
                        "\ndemo: {calls} calls, every one answered validly (OCPP {version})"
                    ));
                    ExitCode::SUCCESS
                }
                Err(error) => {
                    eprintln!("ocpp demo: {error}");
                    ExitCode::from(1)
                }
            }
        }
        Command::Csms {
            listen,
            path_prefix,
            versions,
        } => runtime().block_on(async move {
            let transcript = Transcript::stdout();
            let path = path_prefix.unwrap_or_default();
            let server = match csms::start(listen, versions, &path, transcript.clone()).await {
                Ok(server) => server,
                Err(error) => {
                    eprintln!("ocpp csms: cannot listen on {listen}: {error}");
                    return ExitCode::from(3);
                }
            };
            let address = server.local_addr();
            transcript.line(&format!("listening on ws://{address}{}", path.pattern()));
            let most = server.acceptor().config().limits.max_connections;
            transcript.line(&format!(
                "at most {most} stations at once (open-file limit)"
            ));
            let _ = tokio::signal::ctrl_c().await;
            transcript.line("shutting down");
            server.shutdown(Duration::from_secs(5)).await;
            transcript.flush(FLUSH);
            ExitCode::SUCCESS
        }),
        Command::Station {
            url,
            version,
            scenario: Scenario::Charge,
        } => {
            let transcript = Transcript::stdout();
            let result = runtime().block_on(station::run(&url, version, transcript.clone()));
            transcript.flush(FLUSH);
            match result {
                Ok(calls) => {
                    say(&format!(
                        "station: {calls} calls, every one answered validly"
                    ));
                    ExitCode::SUCCESS
                }
                Err(error @ station::StationError::Connect(_)) => {
                    eprintln!("ocpp station: {error}");
                    ExitCode::from(3)
                }
                Err(error) => {
                    eprintln!("ocpp station: {error}");
                    ExitCode::from(1)
                }
            }
        }
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
                        let names: Vec<_> = ocpp_types::AnyAction::all(version)
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

/// How long a command waits at its end for the transcript to be written.
const FLUSH: Duration = Duration::from_secs(5);

fn runtime() -> tokio::runtime::Runtime {
    match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("ocpp: cannot start the async runtime: {error}");
            std::process::exit(2);
        }
    }
}

/// Prints a line on stdout; a closed stdout (`ocpp demo | head`) is the reader's choice, not a
/// failure of the command.
fn say(line: &str) {
    let _ = writeln!(io::stdout(), "{line}");
}

fn fail(message: &str) -> ExitCode {
    eprintln!("ocpp: {message}");
    ExitCode::from(2)
}
