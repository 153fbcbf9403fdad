//! The schemas in `schemas/` are the official ones, byte for byte, and generate deterministically.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use ocpp_codegen::Version;
use sha2::{Digest, Sha256};

fn schema_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../schemas")
}

#[test]
fn every_schema_matches_its_published_digest() {
    let root = schema_root();
    let sums = std::fs::read_to_string(root.join("SHA256SUMS")).expect("schemas/SHA256SUMS");
    let mut listed = BTreeSet::new();
    for line in sums.lines().filter(|l| !l.trim().is_empty()) {
        let (digest, name) = line.split_once("  ").expect("`<digest>  <path>` lines");
        let name = name.trim_start_matches("./");
        let bytes = std::fs::read(root.join(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
        let actual = format!("{:x}", Sha256::digest(&bytes));
        assert_eq!(actual, digest, "{name} differs from the published schema");
        listed.insert(name.to_owned());
    }
    assert_eq!(
        listed.len(),
        387,
        "1.6 (78) + 2.0.1 (128) + 2.1 (181) schema files"
    );

    // No schema file that the digests do not cover.
    for version in Version::ALL {
        for entry in std::fs::read_dir(root.join(version.module())).expect("schema folder") {
            let name = format!(
                "{}/{}",
                version.module(),
                entry.unwrap().file_name().to_string_lossy()
            );
            assert!(listed.contains(&name), "{name} is not in SHA256SUMS");
        }
    }
}

#[test]
fn generation_is_deterministic() {
    for version in Version::ALL {
        let dir = schema_root().join(version.module());
        let first = ocpp_codegen::generate(version, &dir).expect("generates");
        let second = ocpp_codegen::generate(version, &dir).expect("generates");
        assert_eq!(first, second, "OCPP {version}");
    }
}

#[test]
fn generated_code_is_rustfmt_clean() {
    // rustfmt ships with every rustup toolchain; CI installs the component.
    let out = std::env::temp_dir().join(format!("ocpp-codegen-fmt-{}", std::process::id()));
    std::fs::create_dir_all(&out).unwrap();
    for version in Version::ALL {
        let source =
            ocpp_codegen::generate(version, &schema_root().join(version.module())).unwrap();
        let file = out.join(format!("{}.rs", version.module()));
        std::fs::write(&file, source).unwrap();
        let status = std::process::Command::new("rustfmt")
            .args(["--edition", "2024", "--check"])
            .arg(&file)
            .status()
            .expect("rustfmt runs");
        assert!(
            status.success(),
            "rustfmt would change the generated OCPP {version} code"
        );
    }
    let _ = std::fs::remove_dir_all(&out);
}

#[test]
fn same_named_definitions_that_differ_fail_with_both_files_named() {
    let dir = std::env::temp_dir().join(format!("ocpp-codegen-conflict-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let schema = |values: &str| {
        format!(
            r##"{{"$schema":"http://json-schema.org/draft-06/schema#","definitions":{{"StatusEnumType":{{"type":"string","enum":[{values}]}}}},
            "type":"object","additionalProperties":false,"properties":{{"status":{{"$ref":"#/definitions/StatusEnumType"}}}},"required":["status"]}}"##
        )
    };
    std::fs::write(dir.join("ARequest.json"), schema(r#""X""#)).unwrap();
    std::fs::write(dir.join("AResponse.json"), schema(r#""X","Y""#)).unwrap();
    let err = ocpp_codegen::generate(Version::V201, &dir)
        .unwrap_err()
        .to_string();
    assert!(err.contains("StatusEnumType"), "{err}");
    assert!(
        err.contains("ARequest.json") && err.contains("AResponse.json"),
        "{err}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
