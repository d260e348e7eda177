//! What an organisation declares public: its own phone numbers, e-mail domains, routing
//! numbers. Values on the list are never findings (as Presidio's and Macie's allow
//! lists), whatever the model would say.
//!
//! The file is TOML:
//!
//! ```toml
//! # Values as printed; spaces, dashes and case do not matter.
//! values = ["1-800-555-0100", "021000021", "loans@examplebank.com"]
//! # Regular expressions matched against the whole value.
//! patterns = ['^\+1 ?\(?800\)?']
//! # E-mail domains (subdomains included).
//! email_domains = ["examplebank.com"]
//! ```

use regex::Regex;
use serde::Deserialize;
use vigil_core::EntityKind;

use crate::Error;
use vigil_core::{ObjectRef, ObjectStore};

/// The most entries a list may hold: a list is for an organisation's own contacts.
const MAX_ENTRIES: usize = 10_000;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct AllowFile {
    #[serde(default)]
    values: Vec<String>,
    #[serde(default)]
    patterns: Vec<String>,
    #[serde(default)]
    email_domains: Vec<String>,
}

#[derive(Debug, Clone, Default)]
pub struct AllowList {
    /// Normalised values.
    values: Vec<String>,
    patterns: Vec<Regex>,
    /// Lower case, without a leading `@` or dot.
    email_domains: Vec<String>,
}

/// Letters and digits in lower case: `(800) 555-0100`, `1-800-555-0100` and
/// `800.555.0100` are one value.
fn normalise(value: &str) -> String {
    let digits_only = value
        .chars()
        .all(|c| c.is_ascii_digit() || " ()+-./".contains(c));
    if digits_only {
        let d: String = value.chars().filter(char::is_ascii_digit).collect();
        // North American numbers with and without the country code.
        return match d.strip_prefix('1') {
            Some(rest) if rest.len() == 10 => rest.to_owned(),
            _ => d,
        };
    }
    value
        .chars()
        .filter(|c| c.is_alphanumeric() || matches!(c, '@' | '.' | '-' | '_' | '+'))
        .flat_map(char::to_lowercase)
        .collect()
}

impl AllowList {
    /// Parses the TOML text of an allow list; `origin` names it in errors.
    pub fn parse(text: &str, origin: &str) -> Result<AllowList, Error> {
        let bad = |message: String| Error::AllowList {
            origin: origin.to_owned(),
            message,
        };
        let file: AllowFile = toml::from_str(text).map_err(|e| bad(e.message().to_owned()))?;
        let entries = file.values.len() + file.patterns.len() + file.email_domains.len();
        if entries > MAX_ENTRIES {
            return Err(bad(format!("{entries} entries (limit {MAX_ENTRIES})")));
        }
        let patterns = file
            .patterns
            .iter()
            .enumerate()
            .map(|(i, p)| {
                regex::RegexBuilder::new(&format!("^(?:{p})$"))
                    .size_limit(1 << 20)
                    .build()
                    .map_err(|e| {
                        bad(format!(
                            "patterns[{i}] is not a valid regular expression: {e}"
                        ))
                    })
            })
            .collect::<Result<_, _>>()?;
        let mut values: Vec<String> = file.values.iter().map(|v| normalise(v)).collect();
        values.retain(|v| !v.is_empty());
        values.sort();
        values.dedup();
        let email_domains = file
            .email_domains
            .iter()
            .map(|d| d.trim().trim_start_matches(['@', '.']).to_lowercase())
            .filter(|d| !d.is_empty())
            .collect();
        Ok(AllowList {
            values,
            patterns,
            email_domains,
        })
    }

    /// The allow list a deployment declares: TOML text in `inline` (an environment
    /// variable) or an object in a store (`s3://bucket/key`). A missing object is an empty
    /// list (an organisation that has declared nothing yet); an unreadable or malformed
    /// one is an error, so that a function never runs on half its configuration.
    pub async fn load(
        inline: Option<&str>,
        object: Option<&str>,
        store: &impl ObjectStore,
    ) -> Result<AllowList, Error> {
        match (
            inline.filter(|s| !s.trim().is_empty()),
            object.filter(|s| !s.trim().is_empty()),
        ) {
            (Some(_), Some(_)) => Err(Error::AllowList {
                origin: "configuration".into(),
                message: "give the allow list inline or as an object, not both".into(),
            }),
            (Some(text), None) => AllowList::parse(text, "(inline)"),
            (None, Some(uri)) => {
                let object = parse_uri(uri)?;
                match store.get(&object).await {
                    Ok(bytes) => {
                        let text = String::from_utf8(bytes).map_err(|_| Error::AllowList {
                            origin: uri.to_owned(),
                            message: "not UTF-8 text".into(),
                        })?;
                        AllowList::parse(&text, uri)
                    }
                    Err(vigil_core::Error::ObjectNotFound { .. }) => {
                        tracing::info!(allow_list = uri, "no allow list object: none declared");
                        Ok(AllowList::default())
                    }
                    Err(e) => Err(e.into()),
                }
            }
            (None, None) => Ok(AllowList::default()),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.values.is_empty() && self.patterns.is_empty() && self.email_domains.is_empty()
    }

    pub fn len(&self) -> usize {
        self.values.len() + self.patterns.len() + self.email_domains.len()
    }

    /// Which rule allows `value`, in words without the value, if one does.
    pub fn matches(&self, kind: EntityKind, value: &str) -> Option<&'static str> {
        if self.is_empty() {
            return None;
        }
        if self.values.binary_search(&normalise(value)).is_ok() {
            return Some("a value on the allow list");
        }
        let plain = value.trim();
        if self.patterns.iter().any(|p| p.is_match(plain)) {
            return Some("a pattern on the allow list");
        }
        if kind == EntityKind::Email {
            let domain = plain.rsplit_once('@').map_or("", |(_, d)| d).to_lowercase();
            let listed = self.email_domains.iter().any(|d| {
                domain == *d
                    || domain
                        .strip_suffix(d.as_str())
                        .is_some_and(|rest| rest.ends_with('.'))
            });
            if listed {
                return Some("an e-mail domain on the allow list");
            }
        }
        None
    }
}

/// `s3://bucket/key` → the object.
fn parse_uri(uri: &str) -> Result<ObjectRef, Error> {
    uri.strip_prefix("s3://")
        .and_then(|rest| rest.split_once('/'))
        .filter(|(bucket, key)| !bucket.is_empty() && !key.is_empty())
        .map(|(bucket, key)| ObjectRef::new(bucket, key))
        .ok_or_else(|| Error::AllowList {
            origin: uri.to_owned(),
            message: "not an s3://bucket/key address".into(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIST: &str = r#"
values = ["1-800-555-0100", "021000021"]
patterns = ['\(303\) 555-\d{4}']
email_domains = ["@ExampleBank.com"]
"#;

    #[test]
    fn values_patterns_and_domains_match() {
        let list = AllowList::parse(LIST, "test").unwrap();
        assert_eq!(list.len(), 4);
        assert!(list.matches(EntityKind::Phone, "(800) 555-0100").is_some());
        assert!(list.matches(EntityKind::Phone, "(800) 555-0101").is_none());
        assert!(list.matches(EntityKind::Phone, "1 800 555 0100").is_some());
        assert!(
            list.matches(EntityKind::RoutingNumber, "021000021")
                .is_some()
        );
        assert!(list.matches(EntityKind::Phone, "(303) 555-0142").is_some());
        assert!(list.matches(EntityKind::Phone, "(303) 555-01423").is_none());
        assert!(
            list.matches(EntityKind::Email, "loans@examplebank.com")
                .is_some()
        );
        assert!(
            list.matches(EntityKind::Email, "a@mail.examplebank.com")
                .is_some()
        );
        assert!(
            list.matches(EntityKind::Email, "a@notexamplebank.com")
                .is_none()
        );
        assert!(list.matches(EntityKind::Email, "mary@gmail.com").is_none());
    }

    #[test]
    fn bad_files_say_what_is_wrong() {
        let e = AllowList::parse("patterns = ['(']", "allow.toml").unwrap_err();
        assert!(e.to_string().contains("patterns[0]"), "{e}");
        assert!(e.to_string().contains("allow.toml"), "{e}");
        let e = AllowList::parse("phones = []", "allow.toml").unwrap_err();
        assert!(e.to_string().contains("phones"), "{e}");
        assert!(AllowList::parse("", "empty").unwrap().is_empty());
        assert!(parse_uri("s3://bucket/config/allow.toml").is_ok());
        assert!(parse_uri("s3://bucket/").is_err());
        assert!(parse_uri("bucket/key").is_err());
    }
}
