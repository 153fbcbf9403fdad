//! `ocpp`: command-line tools for OCPP 1.6, 2.0.1 and 2.1. See `ocpp --help`.

use std::io::{self, BufReader, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use std::time::Duration;

use ocpp_cli::transcript::Transcript;
use ocpp_cli::{cluster, csms, demo, generate, parse_version, probe, router, station, validate};
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
    /// The station is `ocpp station` (the station core of ocpp-rs-station) with one session
    /// and one meter sample: BootNotification, StatusNotification, Authorize, then on 1.6
    /// StartTransaction, MeterValues and StopTransaction, on 2.x TransactionEvent Started,
    /// Updated and Ended, with the connector's status changes. Exits 0 when every call was
    /// answered validly.
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
        /// Write every call answered to FILE, one JSON object a line: {"station", "action",
        /// "request", "response"} ("error" for a CALLERROR). A call sent again because its
        /// answer was lost is there twice.
        #[arg(long)]
        record: Option<PathBuf>,
        /// After answering a station's BootNotification, call it N times at once (reading its
        /// meter sample interval: GetConfiguration on 1.6, GetVariables on 2.x), printing
        /// `call K to ID: answered` or `... failed: WHY` for each.
        #[arg(long, default_value_t = 0)]
        calls: u32,
        /// Accept only these id tokens (comma-separated), answering any other `Invalid`; by
        /// default every token is accepted.
        #[arg(long, value_delimiter = ',')]
        accept: Option<Vec<String>>,
        #[command(flatten)]
        cluster: cluster::NodeOptions,
    },
    /// Answer the station calls that cluster nodes hand off (`ocpp csms --cluster ...
    /// --handoff ACTIONS`), as the demo CSMS would: each is taken from the cluster's JetStream
    /// stream, written to --record FILE (if given), answered, then acknowledged; one that a
    /// worker took and did not acknowledge goes to another. Prints `STATION ACTION: answered`
    /// per call. Several workers share the calls.
    Worker {
        /// The cluster's NATS server: nats://HOST:4222.
        #[arg(long)]
        cluster: String,
        /// The durable consumer the workers share.
        #[arg(long, default_value = "workers")]
        consumer: String,
        /// Write every call answered to FILE, as `ocpp csms --record`.
        #[arg(long)]
        record: Option<PathBuf>,
    },
    /// Call a charging station connected to any node of a cluster (`ocpp csms --cluster`) and
    /// print its response's JSON. Exits 0 when answered, 1 on a CALLERROR or a failed call
    /// (the station's timeout, the connection closed), 2 for a request that is not valid for
    /// the action, 3 when no node holds the station, its node or NATS cannot be reached.
    Call {
        /// The cluster's NATS server: nats://HOST:4222.
        #[arg(long)]
        cluster: String,
        /// The station's identity.
        #[arg(long)]
        station: String,
        /// OCPP version of the station: 1.6, 2.0.1 or 2.1.
        #[arg(long = "ocpp", value_parser = parse_version, default_value = "2.0.1")]
        version: OcppVersion,
        /// Seconds to wait for the answer.
        #[arg(long, default_value_t = 35)]
        timeout: u64,
        /// The action (GetVariables, Reset, RemoteStartTransaction, ...).
        action: String,
        /// The request's JSON payload.
        #[arg(default_value = "{}")]
        payload: String,
    },
    /// Run a simulated charging station against a CSMS: charging sessions one after another
    /// on one connector (plug in, present TOKEN-1, TOKEN-2, ..., meter readings, present the
    /// token again, unplug), on the station core of ocpp-rs-station, every frame printed and
    /// every answer checked.
    ///
    /// The station keeps its queue of transaction messages, its transactions and how many
    /// sessions have started in --store DIR: killed at any moment and started again with the
    /// same DIR, it ends a transaction that was running (PowerLoss), delivers what is queued
    /// and runs the sessions left. Exits 0 once every session has ended and the CSMS has
    /// acknowledged every message; 1 if the CSMS answered a call invalidly (or with a
    /// CALLERROR), refused the station or its token, or broke the protocol; 2 if the store
    /// cannot be used; 3 if no connection could be made (a refused handshake or no common
    /// version at once, else after --give-up seconds of retrying).
    Station {
        /// The CSMS's URL, ending in the station's identity: ws://HOST:PORT/PATH/ID.
        #[arg(long)]
        url: String,
        /// OCPP version: 1.6, 2.0.1 or 2.1.
        #[arg(long = "ocpp", value_parser = parse_version, default_value = "2.0.1")]
        version: OcppVersion,
        /// Directory of the station's store and progress (created if missing); without it, a
        /// temporary directory removed at the end.
        #[arg(long)]
        store: Option<PathBuf>,
        /// How many charging sessions in all (counting those of earlier runs on the same
        /// store); 0 with --stay for a charger that only boots and answers.
        #[arg(long, default_value_t = 1)]
        sessions: u32,
        /// Milliseconds between meter readings, and meter samples sent, during a transaction
        /// (the CSMS reads MeterValueSampleInterval / SampledDataCtrlr.TxUpdatedInterval as
        /// this in whole seconds, rounded up).
        #[arg(long = "meter-interval", default_value_t = 1000,
              value_parser = clap::value_parser!(u64).range(1..))]
        meter_interval: u64,
        /// How many sample intervals a session lasts.
        #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u32).range(1..))]
        samples: u32,
        /// Milliseconds to wait before reconnecting (RetryBackOffWaitMinimum, and the random
        /// range; doubled after each failure, three times at most).
        #[arg(long = "retry-wait", default_value_t = 1000)]
        retry_wait: u64,
        /// Seconds without a connection after which the station gives up (exit 3).
        #[arg(long = "give-up", default_value_t = 60)]
        give_up: u64,
        /// Stay connected at least this many seconds from the start, answering the CSMS's
        /// calls, before ending (with --sessions 0: an idle charger, for `ocpp probe station`).
        #[arg(long, default_value_t = 0)]
        stay: u64,
        /// Run the station core on the embedded stack, as firmware does: ocpp-rs-embedded's
        /// Runner over embedded-io-async (a TCP stream adapted to it), embassy-time, and a
        /// FlashStore on a NOR flash simulated in the file DIR/flash (instead of
        /// ocpp-rs-rpc-tokio's StationRunner and a FileStore). The same sessions, checks and
        /// exit statuses; ws:// URLs only. A store belongs to one stack: do not switch it.
        #[cfg(feature = "embedded")]
        #[arg(long)]
        embedded: bool,
        /// What to do once connected (only `charge`, the charging sessions; kept for scripts
        /// that name it).
        #[arg(long, value_enum, default_value = "charge", hide = true)]
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
    /// Run an OCPP router: stations connect to it as to a CSMS, and it keeps a connection per
    /// backend for each (a primary whose answers the station gets, secondaries that get
    /// copies), as router.toml says (see the ocpp-rs-router documentation). Every routed frame
    /// is printed. Stops on Ctrl-C.
    Router {
        /// The configuration: backends, rules, policies (TOML).
        #[arg(long)]
        config: PathBuf,
        /// Also write every routed frame to FILE, one JSON object a line: {"station", "peer"
        /// ("station" or the backend's name), "direction" ("in" to the router, "out"),
        /// "frame"}.
        #[arg(long)]
        transcript: Option<PathBuf>,
        /// The least severe of the router's own events shown on stderr: error, warn, info
        /// (a backend's connection lost or made, local answers, arbitrations), debug (every
        /// frame once more), trace.
        #[arg(long, default_value = "info")]
        log: tracing::Level,
    },
    /// Test another OCPP implementation over a real connection: the WebSocket handshake,
    /// malformed frames, schema-valid and systematically broken payloads for every action it
    /// takes, pings, and its own calls. One line per finding (severity, case, what, clause)
    /// and a summary; exits 0 only if nothing of severity error or worse was found.
    Probe {
        #[command(subcommand)]
        target: ProbeTarget,
    },
}

/// The side `ocpp probe` tests.
#[derive(Subcommand)]
enum ProbeTarget {
    /// Probe a CSMS: connect to it as a charging station, boot, then run every case.
    Csms {
        /// The CSMS's URL for a station, ws://HOST:PORT/PATH/IDENTITY.
        #[arg(long)]
        url: String,
        #[command(flatten)]
        options: probe::Options,
    },
    /// Probe a charging station: listen as a CSMS, answer its boot, then run every case.
    Station {
        /// Address to listen on (the station connects to ws://ADDR/ANY/PATH/IDENTITY).
        #[arg(long, default_value = "127.0.0.1:9000")]
        listen: std::net::SocketAddr,
        #[command(flatten)]
        options: probe::Options,
    },
}

/// What the station does.
#[derive(Clone, Copy, clap::ValueEnum)]
enum Scenario {
    /// Charging sessions.
    Charge,
}

/// Creates the file of `--record FILE`, if given.
fn open_record(file: Option<PathBuf>) -> Result<Option<ocpp_cli::answer::Record>, String> {
    file.map(|file| {
        ocpp_cli::answer::Record::create(&file)
            .map_err(|e| format!("cannot write {}: {e}", file.display()))
    })
    .transpose()
}

fn main() -> ExitCode {
    match Cli::parse().command {
        Command::Router {
            config,
            transcript,
            log,
        } => runtime().block_on(async move {
            // The router's own events on stderr (the frames go to stdout and the transcript).
            let _ = tracing_subscriber::fmt()
                .with_max_level(log)
                .with_writer(io::stderr)
                .with_target(false)
                .try_init();
            let lines = Transcript::stdout();
            let router = match router::start(&config, lines.clone(), transcript.as_deref()).await {
                Ok(router) => router,
                Err(message) => return fail(&message),
            };
            lines.line(&format!(
                "listening on ws://{}/<any path>/<identity>",
                router.local_addr()
            ));
            let _ = tokio::signal::ctrl_c().await;
            lines.line("shutting down");
            router.shutdown(Duration::from_secs(5)).await;
            lines.flush(FLUSH);
            ExitCode::SUCCESS
        }),
        Command::Probe { target } => runtime().block_on(async move {
            let report = match &target {
                ProbeTarget::Csms { url, options } => probe::csms(url, options).await,
                ProbeTarget::Station { listen, options } => probe::station(*listen, options).await,
            };
            match report {
                Ok(report) if report.passed() => ExitCode::SUCCESS,
                Ok(_) => ExitCode::from(1),
                Err(error) => {
                    eprintln!("ocpp probe: {error}");
                    ExitCode::from(2)
                }
            }
        }),
        Command::Worker {
            cluster,
            consumer,
            record,
        } => runtime().block_on(async move {
            let record = match open_record(record) {
                Ok(record) => record,
                Err(message) => return fail(&message),
            };
            let transcript = Transcript::stdout();
            transcript.line(&format!("worker of consumer {consumer}"));
            let worked = tokio::select! {
                worked = cluster::work(&cluster, &consumer, record, &transcript) => worked,
                _ = tokio::signal::ctrl_c() => Ok(()),
            };
            transcript.flush(FLUSH);
            match worked {
                Ok(()) => ExitCode::SUCCESS,
                Err(message) => {
                    eprintln!("ocpp worker: {message}");
                    ExitCode::from(3)
                }
            }
        }),
        Command::Call {
            cluster,
            station,
            version,
            timeout,
            action,
            payload,
        } => runtime().block_on(async move {
            let timeout = Duration::from_secs(timeout);
            match cluster::call(&cluster, &station, version, &action, &payload, timeout).await {
                Ok(json) => {
                    say(&json);
                    ExitCode::SUCCESS
                }
                Err(outcome) => {
                    eprintln!("ocpp call: {}", outcome.message());
                    ExitCode::from(outcome.code())
                }
            }
        }),
        Command::Demo { version } => {
            let transcript = Transcript::stdout();
            let result = runtime().block_on(demo::run(version, transcript.clone()));
            transcript.flush(FLUSH);
            match result {
                Ok(summary) => {
                    say(&format!(
                        "\ndemo: {} calls, every one answered validly (OCPP {version})",
                        summary.calls
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
            record,
            calls,
            accept,
            cluster,
        } => runtime().block_on(async move {
            let transcript = Transcript::stdout();
            let path = path_prefix.unwrap_or_default();
            let record = match open_record(record) {
                Ok(record) => record,
                Err(message) => return fail(&message),
            };
            let node = match cluster.join(&versions).await {
                Ok(node) => node,
                Err(message) => {
                    eprintln!("ocpp csms: cannot join the cluster: {message}");
                    return ExitCode::from(3);
                }
            };
            let node_name = node.as_ref().map(|n| n.name().to_owned());
            let extras = csms::Extras {
                record,
                calls,
                accept,
                node,
            };
            let started =
                csms::start_recording(listen, versions, &path, transcript.clone(), extras).await;
            let server = match started {
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
            if let Some(name) = node_name {
                transcript.line(&format!("node {name} of the cluster"));
            }
            let _ = tokio::signal::ctrl_c().await;
            transcript.line("shutting down");
            server.shutdown(Duration::from_secs(5)).await;
            transcript.flush(FLUSH);
            ExitCode::SUCCESS
        }),
        Command::Station {
            url,
            version,
            store,
            sessions,
            meter_interval,
            samples,
            retry_wait,
            give_up,
            stay,
            #[cfg(feature = "embedded")]
            embedded,
            scenario: Scenario::Charge,
        } => {
            let mut options = station::Options::new(url, version);
            options.store = store;
            options.sessions = sessions;
            options.meter_interval = Duration::from_millis(meter_interval);
            options.samples = samples;
            options.retry_wait = Duration::from_millis(retry_wait);
            options.give_up = Duration::from_secs(give_up);
            options.stay = Duration::from_secs(stay);
            #[cfg(feature = "embedded")]
            {
                options.embedded = embedded;
            }
            let transcript = Transcript::stdout();
            let result = runtime().block_on(station::run(&options, transcript.clone()));
            transcript.flush(FLUSH);
            match result {
                Ok(summary) => {
                    say(&format!(
                        "station: {} calls, every one answered validly; {} of {} sessions done",
                        summary.calls, summary.sessions, sessions
                    ));
                    ExitCode::SUCCESS
                }
                Err(error) => {
                    eprintln!("ocpp station: {error}");
                    ExitCode::from(error.exit_code())
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
