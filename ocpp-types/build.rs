//! Generates one module per enabled OCPP version from the schemas shipped with the crate.

use std::path::PathBuf;

use ocpp_codegen::Version;

fn main() {
    let manifest = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("set by cargo"));
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("set by cargo"));
    for version in Version::ALL {
        let feature = format!("CARGO_FEATURE_{}", version.module().to_uppercase());
        if std::env::var_os(feature).is_none() {
            continue;
        }
        let dir = manifest.join("schemas").join(version.module());
        println!("cargo::rerun-if-changed={}", dir.display());
        match ocpp_codegen::generate(version, &dir) {
            Ok(source) => {
                let file = out.join(format!("{}.rs", version.module()));
                if let Err(err) = std::fs::write(&file, source) {
                    panic!("cannot write {}: {err}", file.display());
                }
            }
            Err(err) => panic!("generating OCPP {version} types: {err}"),
        }
    }
}
