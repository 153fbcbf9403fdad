//! `ocpp-codegen VERSION SCHEMA_DIR [OUT_FILE]`: writes the Rust module for one OCPP version.

use std::path::PathBuf;
use std::process::ExitCode;

use ocpp_codegen::Version;

const USAGE: &str = "usage: ocpp-codegen <1.6|2.0.1|2.1> <schema-dir> [out-file]\n\
    Writes the Rust types for every message in <schema-dir> (stdout without out-file).\n\
    The output expects the runtime of the ocpp-rs-types crate (`crate::__rt`, `crate::BoundedString`, ...).";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.iter().any(|a| a == "-h" || a == "--help") {
        println!("{USAGE}");
        return ExitCode::SUCCESS;
    }
    let (Some(version), Some(dir)) = (args.first(), args.get(1)) else {
        eprintln!("{USAGE}");
        return ExitCode::from(2);
    };
    let Some(version) = Version::parse(version) else {
        eprintln!("unknown OCPP version {version:?}\n{USAGE}");
        return ExitCode::from(2);
    };
    let source = match ocpp_codegen::generate(version, &PathBuf::from(dir)) {
        Ok(source) => source,
        Err(err) => {
            eprintln!("error: {err}");
            return ExitCode::FAILURE;
        }
    };
    let written = match args.get(2) {
        Some(out) => std::fs::write(out, source),
        None => {
            use std::io::Write;
            std::io::stdout().write_all(source.as_bytes())
        }
    };
    match written {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err}");
            ExitCode::FAILURE
        }
    }
}
