//! `template.yaml` passes `sam validate --lint`, `cfn-lint` and the checkov security scanner
//! (all from PyPI; the README's test command installs them). A broken copy must fail, so the
//! checks cannot pass vacuously.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn template() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../template.yaml")
}

fn run(tool: &str, args: &[&str], template: &Path) -> Output {
    Command::new(tool)
        .args(args)
        .arg(template)
        .env("SAM_CLI_TELEMETRY", "0")
        .output()
        .unwrap_or_else(|e| {
            panic!("{tool} is not installed ({e}): run the tests with infra/test.sh")
        })
}

fn sam(template: &Path) -> Output {
    run("sam", &["validate", "--lint", "--template"], template)
}

fn cfn_lint(template: &Path) -> Output {
    run("cfn-lint", &[], template)
}

/// checkov over the template alone, offline (no guideline download), failed checks only.
fn checkov(template: &Path) -> Output {
    run(
        "checkov",
        &[
            "--framework",
            "cloudformation",
            "--skip-download",
            "--quiet",
            "--compact",
            "--file",
        ],
        template,
    )
}

fn write_copy(text: &str, name: &str) -> PathBuf {
    let path = std::env::temp_dir().join(format!("vigil-{name}-{}.yaml", std::process::id()));
    std::fs::write(&path, text).unwrap();
    path
}

/// Both linters answer; `None` (the test skipped) when either is not installed.
fn linters() -> Option<()> {
    vigil_testkit::tool("sam", &["--version"], "aws-sam-cli")?;
    vigil_testkit::tool("cfn-lint", &["--version"], "cfn-lint")
}

fn report(out: &Output) -> String {
    format!(
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

#[test]
fn template_passes_sam_validate_lint() {
    let Some(()) = linters() else { return };
    let out = sam(&template());
    assert!(out.status.success(), "{}", report(&out));
}

#[test]
fn template_passes_cfn_lint() {
    let Some(()) = linters() else { return };
    let out = cfn_lint(&template());
    assert!(out.status.success(), "{}", report(&out));
}

#[test]
fn linters_reject_a_broken_template() {
    let Some(()) = linters() else { return };
    let text = std::fs::read_to_string(template()).unwrap();
    let broken = text.replace(
        "Endpoint: !Ref AlertEmail",
        "Endpoint: !Ref NoSuchParameter",
    );
    assert_ne!(
        broken, text,
        "the template should subscribe the alert e-mail"
    );
    let path = write_copy(&broken, "broken");
    let (sam_out, lint_out) = (sam(&path), cfn_lint(&path));
    let _ = std::fs::remove_file(&path);
    assert!(!sam_out.status.success(), "sam accepted a broken template");
    assert!(
        !lint_out.status.success(),
        "cfn-lint accepted a broken template"
    );
}

#[test]
fn template_passes_checkov() {
    let Some(()) = vigil_testkit::tool("checkov", &["--version"], "checkov") else {
        return;
    };
    let out = checkov(&template());
    assert!(out.status.success(), "{}", report(&out));
}

#[test]
fn checkov_rejects_an_unencrypted_queue() {
    let Some(()) = vigil_testkit::tool("checkov", &["--version"], "checkov") else {
        return;
    };
    let text = std::fs::read_to_string(template()).unwrap();
    let queue = "      KmsMasterKeyId: !Ref VigilKey\n      MessageRetentionPeriod";
    assert!(
        text.contains(queue),
        "the failure queues use the stack's key"
    );
    let path = write_copy(
        &text.replacen(queue, "      MessageRetentionPeriod", 1),
        "plain-queue",
    );
    let out = checkov(&path);
    let _ = std::fs::remove_file(&path);
    assert!(
        !out.status.success(),
        "checkov accepted an unencrypted queue"
    );
    assert!(report(&out).contains("CKV_AWS_27"), "{}", report(&out));
}

/// A scanner check the template skips says why, next to the skip.
#[test]
fn every_skipped_check_gives_its_reason() {
    let text = std::fs::read_to_string(template()).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let skips: Vec<usize> = (0..lines.len())
        .filter(|&i| lines[i].trim_start().starts_with("- id: CKV"))
        .collect();
    assert!(!skips.is_empty());
    for i in skips {
        let reason = lines.get(i + 1).map(|l| l.trim()).unwrap_or("");
        assert!(
            reason.starts_with("comment:")
                && lines.get(i + 2).is_some_and(|l| !l.trim().is_empty()),
            "line {}: {} is skipped without a reason",
            i + 1,
            lines[i].trim()
        );
    }
}

/// The template's buckets: `(logical id, its text up to the next resource)`.
fn buckets(text: &str) -> Vec<(&str, &str)> {
    let mut found = Vec::new();
    for (at, _) in text.match_indices("    Type: AWS::S3::Bucket\n") {
        let start = text[..at].rfind("\n  ").map_or(0, |i| i + 3);
        let name = text[start..at].trim().trim_end_matches(':');
        let rest = &text[at + 1..];
        let end = rest
            .find("\n  # ")
            .into_iter()
            .chain(rest.find("\n\n"))
            .min();
        found.push((name, &rest[..end.unwrap_or(rest.len())]));
    }
    found
}

#[test]
fn every_bucket_is_encrypted_private_logged_and_tls_only() {
    let text = std::fs::read_to_string(template()).unwrap();
    let buckets = buckets(&text);
    assert!(
        buckets.len() >= 6,
        "archive, reports, four document buckets and the access logs, found {buckets:?}"
    );
    for (name, body) in &buckets {
        assert!(body.contains("SSEAlgorithm:"), "{name} is not encrypted");
        assert!(
            body.contains("RestrictPublicBuckets: true"),
            "{name} is not private"
        );
        assert!(
            text.contains(&format!("Bucket: !Ref {name}\n"))
                && text.matches("aws:SecureTransport: \"false\"").count() == buckets.len(),
            "{name} has no TLS-only policy"
        );
        if *name != "AccessLogsBucket" {
            assert!(
                body.contains("DestinationBucketName: !Ref AccessLogsBucket"),
                "{name} keeps no access log"
            );
        }
    }
}

#[test]
fn allow_statements_name_their_actions() {
    let text = std::fs::read_to_string(template()).unwrap();
    // `s3:*` appears only in the Deny statements of the TLS-only bucket policies.
    for (i, line) in text.lines().enumerate() {
        if line.contains("\"s3:*\"") || line.contains("Action: \"*\"") {
            let before: Vec<&str> = text.lines().take(i).collect();
            let effect = before.iter().rev().find(|l| l.contains("Effect:")).unwrap();
            assert!(
                effect.contains("Deny"),
                "line {}: a wildcard action in an Allow",
                i + 1
            );
        }
    }
}

#[test]
fn named_queries_are_the_reports_sql() {
    let text = std::fs::read_to_string(template()).unwrap();
    let named = vigil_reports::queries::named_queries();
    assert_eq!(
        text.matches("Type: AWS::Athena::NamedQuery").count(),
        named.len()
    );
    for (name, sql) in named {
        let name_line = format!("Name: vigil-{}", name.replace('_', "-"));
        let sql_line = format!("QueryString: '{}'", sql.replace('\'', "''"));
        let at = text
            .find(&name_line)
            .unwrap_or_else(|| panic!("no named query {name}"));
        let query = text[at..]
            .lines()
            .find(|l| l.contains("QueryString:"))
            .unwrap();
        assert_eq!(
            query.trim(),
            sql_line,
            "query {name} differs from the crate's"
        );
    }
}

#[test]
fn the_table_schema_matches_the_records() {
    let text = std::fs::read_to_string(template()).unwrap();
    let at = text.find("Name: txn_processedtxns").unwrap();
    let columns: Vec<&str> = text[at..]
        .lines()
        .skip_while(|l| !l.contains("Columns:"))
        .skip(1)
        .take_while(|l| {
            l.trim_start().starts_with("- Name:") || l.trim_start().starts_with("Type:")
        })
        .filter_map(|l| l.trim().strip_prefix("- Name: "))
        .collect();
    let mut want = vigil_core::Transaction::COLUMNS.to_vec();
    want.push("fd");
    assert_eq!(
        columns, want,
        "the Glue columns are the archive's, in order"
    );
}
