use super::*;
use crate::features::{N_FEATURES, feature_index};

fn event(email: &str, bin: &str) -> Event {
    Event {
        event_id: "e".into(),
        entity_id: "c".into(),
        time: 0,
        amount: 3.0,
        category: "misc_net".into(),
        ip_address: "1.2.3.4".into(),
        user_agent: "ua".into(),
        card_bin: bin.into(),
        billing_state: "VA".into(),
        email: email.into(),
    }
}

#[test]
fn shipped_rules_parse() {
    let r = Rules::default_rules();
    assert_eq!(r.rules.len(), 6);
    assert_eq!(r.default_outcome, Outcome::Approve);
    assert_eq!(r.list_sizes().count(), 8);
}

#[test]
fn first_matched_lists_scores_features_and_default() {
    let rules = Rules::parse(
        r#"
        default_outcome = "approve"
        [lists]
        deny_email_domains = ["Bad.example"]
        allow_card_bins = ["111111"]
        [[rule]]
        name = "allowed"
        when = "$card_bin in @allow_card_bins"
        outcome = "approve"
        [[rule]]
        name = "denied"
        when = "$email_domain in @deny_email_domains"
        outcome = "block"
        [[rule]]
        name = "high"
        when = "$score >= 900"
        outcome = "block"
        [[rule]]
        name = "card_testing"
        description = "several small amounts within an hour"
        when = "$count_1h >= 3 and $amount <= 5"
        outcome = "review"
        "#,
    )
    .unwrap();
    let mut x = [0f32; N_FEATURES];
    let d = rules.decide(950.0, &x, &event("a@bad.EXAMPLE", "2"));
    assert_eq!((d.outcome, d.rule_results.len()), (Outcome::Block, 1));
    assert_eq!(d.rule_results[0].rule, "denied");
    // Lists compare trimmed and in lower case, with capitals in the value or not.
    for (email, bin, rule) in [
        ("a@b.c", "111111", "allowed"),
        ("a@b.c", " 111111 ", "allowed"),
        ("a@bad.example", "2", "denied"),
        ("a@ Bad.Example ", "2", "denied"),
    ] {
        let d = rules.decide(10.0, &x, &event(email, bin));
        assert_eq!(d.rule_results[0].rule, rule, "{email} {bin}");
    }
    let d = rules.decide(10.0, &x, &event("a@b.c", "1111112"));
    assert!(d.rule_results.is_empty());
    assert_eq!(
        rules.decide(950.0, &x, &event("a@b.c", "2")).rule_results[0].rule,
        "high"
    );
    x[feature_index("count_1h").unwrap()] = 4.0;
    let d = rules.decide(10.0, &x, &event("a@b.c", "2"));
    assert_eq!(d.outcome, Outcome::Review);
    assert_eq!(
        d.reasons,
        vec!["several small amounts within an hour".to_owned()]
    );
    let mut big = event("a@b.c", "2");
    big.amount = 50.0;
    let d = rules.decide(10.0, &x, &big);
    assert_eq!((d.outcome, d.rule_results.len()), (Outcome::Approve, 0));
}

#[test]
fn all_matched_reports_every_match() {
    let rules = Rules::parse(
        r#"
        mode = "ALL_MATCHED"
        default_outcome = "review"
        [[rule]]
        name = "a"
        when = "$score >= 100"
        outcome = "block"
        [[rule]]
        name = "b"
        when = "$vigil_gbdt_insightscore >= 50"
        outcome = "review"
        "#,
    )
    .unwrap();
    let x = [0f32; N_FEATURES];
    let d = rules.decide(200.0, &x, &event("a@b.c", "1"));
    assert_eq!(d.outcome, Outcome::Block);
    assert_eq!(d.rule_results.len(), 2);
    assert_eq!(
        rules.decide(10.0, &x, &event("a@b.c", "1")).outcome,
        Outcome::Review
    );
}

/// One rule per case, alone in its file: whether it matches the event below.
#[test]
fn the_language_evaluates_as_fraud_detector_documents_it() {
    let mut e = event("Someone@Gmail.com", "423768");
    e.amount = 120.0;
    e.billing_state = "NY".into();
    let mut x = [0f32; N_FEATURES];
    x[feature_index("count_24h").unwrap()] = 7.0;
    x[feature_index("new_ip").unwrap()] = 1.0;
    let files = BTreeMap::from([(
        "risky_states".to_owned(),
        parse_list("# states\nny\n\nnj  # neighbours\n"),
    )]);
    for (when, expected) in [
        ("$amount > 100", true),
        ("$amount + $count_24h * 10 == 190", true),
        ("-$amount < -100 and $amount % 7 == 1", true),
        ("$amount / 0 > 1e9", true),
        ("$billing_state == \"NY\"", true),
        ("$billing_state == \"ny\"", false),
        ("$billing_state in [\"ca\", \" ny \"]", true),
        ("$billing_state not in [\"ca\", \"ny\"]", false),
        ("$billing_state in @risky_states", true),
        ("not $billing_state in @risky_states", false),
        ("$count_24h in [1, 7, -2]", true),
        ("$new_ip == 1 and !($score > 500)", true),
        (r#"regex_match(".*@gmail\.com", lowercase($email))"#, true),
        (r#"regex_match("gmail", $email)"#, false),
        (r#"regex_match("4[0-9]{5}", $card_bin)"#, true),
        ("uppercase($email_domain) == \"GMAIL.COM\"", true),
        ("($amount > 100) == ($score < 10)", false),
        ("true", true),
    ] {
        let text = format!(
            "default_outcome = \"approve\"\n[[rule]]\nname = \"r\"\noutcome = \"block\"\nwhen = '{when}'"
        );
        let rules =
            Rules::parse_with_lists(&text, &files).unwrap_or_else(|err| panic!("{when}: {err}"));
        let d = rules.decide(300.0, &x, &e);
        assert_eq!(d.outcome == Outcome::Block, expected, "{when}");
    }
}

#[test]
fn bad_rule_files_are_clear_errors_with_line_and_column() {
    let rule = |when: &str| {
        format!(
            "default_outcome = \"approve\"\n[lists]\ndeny = []\n[[rule]]\nname = \"x\"\noutcome = \"block\"\nwhen = \"{when}\"\n"
        )
    };
    let cases = [
        ("default_outcome = \"deny\"".to_owned(), "deny"),
        (
            "default_outcome = \"approve\"\n[[rule]]\nname = \"x\"\noutcome = \"block\"".into(),
            "missing field `when`",
        ),
        ("default_outcome = \"approve\"\ncolour = 1".into(), "colour"),
        (
            "mode = \"SOME_MATCHED\"\ndefault_outcome = \"approve\"".into(),
            "SOME_MATCHED",
        ),
        (
            rule("$cout_1h > 3"),
            "line 7, column 9: rule `x`: unknown variable `$cout_1h`; did you mean `$count_1h`?",
        ),
        (
            rule("$amount > 3 and $email in @denny"),
            "line 7, column 25: rule `x`: unknown list `@denny` (known: @deny)",
        ),
        (
            rule("$amount > 'big'"),
            "line 7, column 9: rule `x`: `>` between a number and a text",
        ),
        (rule("$amount"), "must be true or false, this is a number"),
        (
            rule("$amount >"),
            "column 18: rule `x`: the expression ends",
        ),
        (
            rule("$amount = 3"),
            "column 17: rule `x`: `=` alone; compare with `==`",
        ),
        (
            rule("regex_match('(', $email)"),
            "column 21: rule `x`: not a regular expression",
        ),
        (rule("lower($email) == 'a'"), "unknown function `lower`"),
        (rule("$email in [1, 2]"), "quoted texts only"),
        (
            "default_outcome = \"approve\"\n[lists]\n\"Deny IPs\" = []".into(),
            "list name `Deny IPs`",
        ),
    ];
    for (text, expected) in cases {
        let err = Rules::parse(&text).err().unwrap().to_string();
        assert!(err.contains(expected), "{text}: {err}");
    }
    // A multi-line expression: the line and column of the token in the file.
    let text = "default_outcome = \"approve\"\n[[rule]]\nname = \"m\"\noutcome = \"review\"\nwhen = '''\n$amount > 3\n  and $emial == \"x\"'''\n";
    let err = Rules::parse(text).err().unwrap().to_string();
    assert!(
        err.contains("line 7, column 7: rule `m`: unknown variable `$emial`"),
        "{err}"
    );
}

#[test]
fn list_files_join_the_declared_lists() {
    let text = "default_outcome = \"approve\"\n[lists]\ndeny_ips = [\"9.9.9.9\"]\n[[rule]]\nname = \"d\"\noutcome = \"block\"\nwhen = \"$ip in @deny_ips or $email in @deny_emails\"\n";
    let x = [0f32; N_FEATURES];
    // Without the file, `@deny_emails` is unknown.
    assert!(Rules::parse(text).is_err());
    let files = BTreeMap::from([
        ("deny_ips".to_owned(), vec!["1.2.3.4".to_owned()]),
        ("deny_emails".to_owned(), vec![]),
    ]);
    let rules = Rules::parse_with_lists(text, &files).unwrap();
    assert_eq!(
        rules.decide(0.0, &x, &event("a@b.c", "1")).outcome,
        Outcome::Block
    );
    assert_eq!(
        rules.list_sizes().collect::<Vec<_>>(),
        vec![("deny_emails", 0), ("deny_ips", 2)]
    );
}
