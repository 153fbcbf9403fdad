//! `ocpp probe`: the conformance and robustness probe of `ocpp-rs-probe` as a command.

use std::path::PathBuf;
use std::time::Duration;

use ocpp_probe::{Plan, Report, Settings, Target};
use ocpp_types::OcppVersion;

/// What `ocpp probe csms` and `ocpp probe station` share.
#[derive(Debug, Clone, clap::Args)]
pub struct Options {
    /// OCPP version: 1.6, 2.0.1 or 2.1.
    #[arg(long = "ocpp", value_parser = crate::parse_version)]
    pub version: OcppVersion,
    /// Basic-auth credentials USER:PASS (USER must be the station's identity); adds the
    /// Basic-auth handshake cases when probing a CSMS.
    #[arg(long)]
    pub auth: Option<String>,
    /// Seed of every random payload: the same seed gives the same cases.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Run at most N cases.
    #[arg(long)]
    pub cases: Option<usize>,
    /// Start no case after this long (`90s`, `5m`, or seconds).
    #[arg(long, value_parser = parse_duration)]
    pub duration: Option<Duration>,
    /// At most R cases a second (be polite to shared test systems).
    #[arg(long)]
    pub rate: Option<f64>,
    /// How long to wait for each answer (`5s`).
    #[arg(long, value_parser = parse_duration, default_value = "5s")]
    pub timeout: Duration,
    /// Run only the case with this id (with the same --ocpp and --seed).
    #[arg(long = "case")]
    pub case: Option<String>,
    /// Never call these actions (comma-separated; `Reset,UpdateFirmware` on a real charger).
    #[arg(long, value_delimiter = ',')]
    pub skip: Vec<String>,
    /// Write the whole report (every case, frame and finding) as JSON to FILE.
    #[arg(long)]
    pub report: Option<PathBuf>,
    /// Write the report as JUnit XML to FILE.
    #[arg(long)]
    pub junit: Option<PathBuf>,
    /// For a wss:// CSMS: the CA certificates (PEM) its certificate may chain to.
    #[arg(long)]
    pub ca: Option<PathBuf>,
    /// For a CSMS on security profile 3: the station's client certificate chain (PEM), whose
    /// commonName is the URL's identity (with --key and --ca).
    #[arg(long, requires_all = ["key", "ca"])]
    pub cert: Option<PathBuf>,
    /// The key of --cert (PEM).
    #[arg(long, requires = "cert")]
    pub key: Option<PathBuf>,
}

impl Options {
    fn plan(&self, target: Target) -> Plan {
        let mut plan = Plan::new(self.version, target, self.seed);
        plan.skip = self.skip.clone();
        plan.credentials = self.auth.is_some();
        plan
    }

    fn settings(&self) -> Result<Settings, String> {
        Ok(Settings {
            timeout: self.timeout,
            rate: self.rate,
            max_cases: self.cases,
            duration: self.duration,
            only: self.case.iter().cloned().collect(),
            on_result: Some(print_result),
            tls: self
                .ca
                .as_deref()
                .map(|ca| {
                    let identity = self.cert.as_deref().zip(self.key.as_deref());
                    ocpp_rpc_tokio::pem::client_config(ca, identity).map_err(|e| e.to_string())
                })
                .transpose()?,
            ..Settings::default()
        })
    }

    /// The password of `--auth`.
    fn password(&self) -> Option<&str> {
        self.auth
            .as_deref()
            .map(|auth| auth.split_once(':').map_or(auth, |(_, password)| password))
    }
}

/// Prints a case's findings as it is judged.
fn print_result(result: &ocpp_probe::CaseResult) {
    for finding in &result.findings {
        println!(
            "{:<8} {:<48} {} [{}]",
            finding.severity, finding.case, finding.summary, finding.clause
        );
    }
}

/// Probes the CSMS at `url`.
pub async fn csms(url: &str, options: &Options) -> Result<Report, String> {
    if url.starts_with("wss://") && options.ca.is_none() {
        return Err(
            "a wss:// URL needs --ca FILE (the CAs the CSMS's certificate chains to)".to_owned(),
        );
    }
    let report = ocpp_probe::probe_csms(
        url,
        options.password(),
        &options.plan(Target::Csms),
        &options.settings()?,
    )
    .await?;
    finish(report, options)
}

/// Probes the first station that connects to `listen`.
pub async fn station(listen: std::net::SocketAddr, options: &Options) -> Result<Report, String> {
    println!(
        "probe: listening on ws://{listen}/ for a station (OCPP {})",
        options.version
    );
    let report = ocpp_probe::probe_station(
        listen,
        options.password(),
        &options.plan(Target::Station),
        &options.settings()?,
    )
    .await?;
    finish(report, options)
}

/// Prints the peer's findings and the summary, and writes the report files.
fn finish(report: Report, options: &Options) -> Result<Report, String> {
    for finding in &report.peer_findings {
        println!(
            "{:<8} {:<48} {} [{}]",
            finding.severity, finding.case, finding.summary, finding.clause
        );
    }
    let summary = report.to_text();
    if let Some(last) = summary.lines().last() {
        println!("{last}");
    }
    if let Some(path) = &options.report {
        std::fs::write(path, report.to_json())
            .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    }
    if let Some(path) = &options.junit {
        std::fs::write(path, report.to_junit())
            .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    }
    Ok(report)
}

/// `90s`, `5m`, `250ms` or plain seconds.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let fail = || format!("{text:?} is not a duration (90s, 5m, 250ms)");
    let (number, unit) = match text.find(|c: char| !c.is_ascii_digit() && c != '.') {
        Some(i) => text.split_at(i),
        None => (text, "s"),
    };
    let value: f64 = number.parse().map_err(|_| fail())?;
    let seconds = match unit {
        "ms" => value / 1000.0,
        "s" => value,
        "m" => value * 60.0,
        "h" => value * 3600.0,
        _ => return Err(fail()),
    };
    Duration::try_from_secs_f64(seconds).map_err(|_| fail())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ca_file_is_read_as_pem_certificates() {
        let dir = std::env::temp_dir().join(format!("ocpp-probe-ca-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{e}"));
        let key = rcgen::KeyPair::generate().unwrap_or_else(|e| panic!("{e}"));
        let params = rcgen::CertificateParams::new(vec!["ca".to_owned()]);
        let ca = params
            .and_then(|p| p.self_signed(&key))
            .unwrap_or_else(|e| panic!("{e}"));
        let good = dir.join("ca.pem");
        std::fs::write(&good, ca.pem()).unwrap_or_else(|e| panic!("{e}"));
        let trusting = |path: &std::path::Path| ocpp_rpc_tokio::pem::client_config(path, None);
        assert!(trusting(&good).is_ok());
        let bad = dir.join("bad.pem");
        std::fs::write(&bad, "not a certificate").unwrap_or_else(|e| panic!("{e}"));
        assert!(trusting(&bad).is_err_and(|e| e.to_string().contains("no certificate")));
        assert!(trusting(&dir.join("missing.pem")).is_err());
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn durations_are_read_with_their_units() {
        assert_eq!(parse_duration("90s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration("5m"), Ok(Duration::from_secs(300)));
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(parse_duration("7"), Ok(Duration::from_secs(7)));
        assert!(parse_duration("soon").is_err() && parse_duration("5y").is_err());
    }
}
