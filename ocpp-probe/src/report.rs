//! A campaign's report: every case with what was sent, what came back and what was found,
//! plus the findings on the peer's own messages; as JSON (everything needed to file a bug),
//! as JUnit XML (one test case per probe case, for CI dashboards), and as one line per
//! finding.

use std::fmt::Write;
use std::time::Duration;

use ocpp_types::OcppVersion;
use serde::Serialize;

use crate::case::{Case, Target};
use crate::catalogue::Plan;
use crate::verdict::{Finding, Observed, Severity};

/// One case, run and judged.
#[derive(Debug, Clone, Serialize)]
pub struct CaseResult {
    /// The case (its id, the frame sent, the expectation and its clause).
    pub case: Case,
    /// What came back.
    pub observed: Observed,
    /// What was wrong with it.
    pub findings: Vec<Finding>,
    /// How long it took, in milliseconds.
    pub millis: u64,
}

/// A whole campaign.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// The version spoken.
    #[serde(serialize_with = "crate::case::ser::version")]
    pub version: OcppVersion,
    /// The side under test.
    pub target: Target,
    /// The seed (with the version and target, `--case ID` replays a case).
    pub seed: u64,
    /// Every case run, in order.
    pub cases: Vec<CaseResult>,
    /// Findings on the peer's own messages (its calls, its handshake, late answers): the first
    /// 1,000, so a peer that misbehaves without end does not grow the report without end.
    pub peer_findings: Vec<Finding>,
    /// The answer to the probe's BootNotification (probing a CSMS).
    pub boot: Option<String>,
    /// How often the probe had to connect again.
    pub reconnects: u32,
    /// How long the campaign took, in milliseconds.
    pub millis: u64,
}

impl Report {
    pub(crate) fn new(
        plan: &Plan,
        cases: Vec<CaseResult>,
        peer_findings: Vec<Finding>,
        boot: Option<String>,
        reconnects: u32,
        elapsed: Duration,
    ) -> Report {
        Report {
            version: plan.version,
            target: plan.target,
            seed: plan.seed,
            cases,
            peer_findings,
            boot,
            reconnects,
            millis: elapsed.as_millis() as u64,
        }
    }

    /// Every finding, the cases' first, then the peer's.
    pub fn findings(&self) -> impl Iterator<Item = &Finding> {
        self.cases
            .iter()
            .flat_map(|c| &c.findings)
            .chain(&self.peer_findings)
    }

    /// The worst severity found (`None`: nothing found).
    pub fn worst(&self) -> Option<Severity> {
        self.findings().map(|f| f.severity).max()
    }

    /// Whether the implementation passed: nothing of severity error or worse.
    pub fn passed(&self) -> bool {
        self.worst().is_none_or(|s| s < Severity::Error)
    }

    /// Cases run per second.
    pub fn cases_per_second(&self) -> f64 {
        self.cases.len() as f64 * 1000.0 / self.millis.max(1) as f64
    }

    /// The count of findings of each severity, worst first.
    pub fn counts(&self) -> [(Severity, usize); 4] {
        [
            Severity::Critical,
            Severity::Error,
            Severity::Warning,
            Severity::Info,
        ]
        .map(|s| (s, self.findings().filter(|f| f.severity == s).count()))
    }

    /// The report as JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default()
    }

    /// The report as JUnit XML: a test suite per family, a test case per case (failed when
    /// it has a finding of severity error or worse), and one for the peer's own messages.
    pub fn to_junit(&self) -> String {
        let mut xml = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
        let failures = self
            .cases
            .iter()
            .filter(|c| c.findings.iter().any(|f| f.severity >= Severity::Error))
            .count();
        let _ = writeln!(
            xml,
            "<testsuite name=\"ocpp-probe {} {}\" tests=\"{}\" failures=\"{failures}\" time=\"{:.3}\">",
            self.version,
            match self.target {
                Target::Csms => "csms",
                Target::Station => "station",
            },
            self.cases.len() + 1,
            self.millis as f64 / 1000.0
        );
        let mut case = |name: &str, class: &str, millis: u64, findings: &[&Finding]| {
            let _ = write!(
                xml,
                "  <testcase name=\"{}\" classname=\"{}\" time=\"{:.3}\"",
                escape(name),
                escape(class),
                millis as f64 / 1000.0
            );
            if findings.is_empty() {
                xml.push_str("/>\n");
                return;
            }
            xml.push_str(">\n");
            for finding in findings {
                let tag = if finding.severity >= Severity::Error {
                    "failure"
                } else {
                    "system-out"
                };
                let text = format!(
                    "{}: {} [{}]",
                    finding.severity, finding.summary, finding.clause
                );
                if tag == "failure" {
                    let _ = writeln!(
                        xml,
                        "    <failure message=\"{}\" type=\"{}\"/>",
                        escape(&text),
                        finding.severity
                    );
                } else {
                    let _ = writeln!(xml, "    <system-out>{}</system-out>", escape(&text));
                }
            }
            xml.push_str("  </testcase>\n");
        };
        for result in &self.cases {
            let findings: Vec<&Finding> = result.findings.iter().collect();
            let family = serde_json::to_value(result.case.family).ok();
            let class = family.as_ref().and_then(|f| f.as_str()).unwrap_or("case");
            case(&result.case.id, class, result.millis, &findings);
        }
        let peer: Vec<&Finding> = self.peer_findings.iter().collect();
        case("peer.own-messages", "behaviour", 0, &peer);
        xml.push_str("</testsuite>\n");
        xml
    }

    /// One line per finding (worst first within the campaign's order) and a summary line.
    pub fn to_text(&self) -> String {
        let mut text = String::new();
        for finding in self.findings() {
            let _ = writeln!(
                text,
                "{:<8} {:<48} {} [{}]",
                finding.severity, finding.case, finding.summary, finding.clause
            );
        }
        let counts = self.counts().map(|(s, n)| format!("{n} {s}"));
        let _ = writeln!(
            text,
            "probe: OCPP {} {}: {} cases in {:.1} s ({:.0}/s), {} reconnects; findings: {}; {}",
            self.version,
            match self.target {
                Target::Csms => "CSMS",
                Target::Station => "station",
            },
            self.cases.len(),
            self.millis as f64 / 1000.0,
            self.cases_per_second(),
            self.reconnects,
            counts.join(", "),
            if self.passed() { "PASS" } else { "FAIL" }
        );
        text
    }
}

/// `text` escaped for an XML attribute or element.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c if (c as u32) < 0x20 && !matches!(c, '\n' | '\t') => out.push('?'),
            c => out.push(c),
        }
    }
    out
}
