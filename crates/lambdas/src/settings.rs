//! Reading a function's settings from its environment: one helper for every function, so
//! that a missing, blank or malformed setting gets the same kind of message, naming the
//! variable and what it should hold. A bad setting stops the function at start, with the
//! reason in its log. Tests read settings from a map instead of the process environment.

use std::str::FromStr;

use crate::Error;

/// Where the settings come from: a lookup, [`env_var`] in the functions, a map in tests.
/// Each function's settings type has `from_vars(lookup)`.
pub struct Vars<F>(F);

/// The process environment: what the functions pass to their settings' `from_vars`.
pub fn env_var(name: &str) -> Option<String> {
    std::env::var(name).ok()
}

impl<F: Fn(&str) -> Option<String>> Vars<F> {
    pub fn new(lookup: F) -> Self {
        Self(lookup)
    }

    /// The value, trimmed; `None` when unset or blank.
    pub fn optional(&self, name: &str) -> Option<String> {
        (self.0)(name)
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())
    }

    /// The value, which must be set; `what` says what it holds, for the message.
    pub fn required(&self, name: &str, what: &str) -> Result<String, Error> {
        self.optional(name)
            .ok_or_else(|| Error::Config(format!("{name} is not set ({what})")))
    }

    /// The value, or `default` when unset. Set but blank is an error: a blank topic or
    /// prefix is a mistake, not a wish for the default.
    pub fn text_or(&self, name: &str, default: &str) -> Result<String, Error> {
        match (self.0)(name) {
            None => Ok(default.to_owned()),
            Some(v) if v.trim().is_empty() => Err(Error::Config(format!("{name} is empty"))),
            Some(v) => Ok(v.trim().to_owned()),
        }
    }

    /// The value read by `parse` (trimmed), or `default` when unset; `parse`'s message
    /// follows the variable's name. Set but blank goes to `parse` too: a blank count or
    /// switch is a mistake, not a wish for the default.
    pub fn parsed_or<T>(
        &self,
        name: &str,
        default: T,
        parse: impl Fn(&str) -> Result<T, String>,
    ) -> Result<T, Error> {
        match (self.0)(name) {
            None => Ok(default),
            Some(v) => parse(v.trim()).map_err(|m| Error::Config(format!("{name} {m}"))),
        }
    }

    /// A whole number of seconds, or `default` when unset.
    pub fn seconds_or(&self, name: &str, default: u64) -> Result<std::time::Duration, Error> {
        self.parsed_or(name, std::time::Duration::from_secs(default), |v| {
            u64::from_str(v)
                .map(std::time::Duration::from_secs)
                .map_err(|_| format!("must be a whole number of seconds, got `{v}`"))
        })
    }

    /// One of `choices` by name, or `default` when unset.
    pub fn choice_or<T: Copy>(
        &self,
        name: &str,
        default: T,
        choices: &[(&str, T)],
    ) -> Result<T, Error> {
        self.parsed_or(name, default, |v| {
            choices
                .iter()
                .find(|(n, _)| *n == v)
                .map(|(_, t)| *t)
                .ok_or_else(|| {
                    let names: Vec<&str> = choices.iter().map(|(n, _)| *n).collect();
                    format!("must be {}, got `{v}`", names.join(" or "))
                })
        })
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    #[test]
    fn missing_blank_and_malformed_settings_are_named() {
        let map: HashMap<&str, &str> =
            [("A", " x "), ("BLANK", " "), ("N", "12"), ("BAD", "1.5")].into();
        let vars = Vars::new(|k| map.get(k).map(|v| v.to_string()));
        assert_eq!(vars.optional("A").as_deref(), Some("x"));
        assert_eq!(vars.optional("BLANK"), None);
        let err = vars.required("MISSING", "the topic's ARN").unwrap_err();
        assert_eq!(
            err.to_string(),
            "configuration: MISSING is not set (the topic's ARN)"
        );
        assert_eq!(vars.text_or("MISSING", "d").unwrap(), "d");
        assert!(
            vars.text_or("BLANK", "d")
                .unwrap_err()
                .to_string()
                .contains("BLANK is empty")
        );
        assert_eq!(vars.seconds_or("N", 5).unwrap().as_secs(), 12);
        assert_eq!(vars.seconds_or("MISSING", 5).unwrap().as_secs(), 5);
        let err = vars.seconds_or("BAD", 5).unwrap_err().to_string();
        assert!(
            err.contains("BAD must be a whole number of seconds, got `1.5`"),
            "{err}"
        );
        let choices = [("true", true), ("false", false)];
        assert!(!vars.choice_or("MISSING", false, &choices).unwrap());
        let err = vars
            .choice_or("BLANK", false, &choices)
            .unwrap_err()
            .to_string();
        assert!(err.contains("BLANK must be true or false, got ``"), "{err}");
        let err = vars
            .choice_or("A", false, &choices)
            .unwrap_err()
            .to_string();
        assert!(err.contains("A must be true or false, got `x`"), "{err}");
    }
}
