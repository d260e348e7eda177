//! Masking of personal data for every text a person or a log may read.

/// `jonesmichael@yahoo.com` → `j*****@yahoo.com`. The mask has a fixed width so that it
/// does not reveal the length of the local part; anything without an `@` is masked whole.
pub fn email(value: &str) -> String {
    match value.trim().split_once('@') {
        Some((local, domain)) if !local.is_empty() => {
            let first = local.chars().next().unwrap_or('*');
            format!("{first}*****@{domain}")
        }
        _ => "*****".to_owned(),
    }
}

/// Masks every letter and digit but the last `keep`, keeping separators:
/// `140-94-8416` → `***-**-8416`, `412-515-4616` → `***-***-4616`.
pub fn keep_last(value: &str, keep: usize) -> String {
    let total = value.chars().filter(|c| c.is_alphanumeric()).count();
    let mut seen = 0;
    value
        .chars()
        .map(|c| {
            if c.is_alphanumeric() {
                seen += 1;
                if seen + keep > total { c } else { '*' }
            } else {
                c
            }
        })
        .collect()
}

/// A phone number or an SSN-like id: all but the last four characters masked.
pub fn identifier(value: &str) -> String {
    keep_last(value, 4)
}

/// A name: the first letter and a fixed-width mask.
pub fn name(value: &str) -> String {
    match value.trim().chars().next() {
        Some(c) => format!("{c}****"),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_emails() {
        assert_eq!(email("jonesmichael@yahoo.com"), "j*****@yahoo.com");
        assert_eq!(email("j@joseph.com"), "j*****@joseph.com");
        assert_eq!(email("not-an-email"), "*****");
        assert_eq!(email("@x.com"), "*****");
    }

    #[test]
    fn masks_identifiers_keeping_the_last_four() {
        assert_eq!(identifier("140-94-8860"), "***-**-8860");
        assert_eq!(identifier("001-845-169-2115-8972"), "***-***-***-****-8972");
        assert_eq!(identifier("123"), "123");
        assert_eq!(identifier(""), "");
    }

    #[test]
    fn masks_names() {
        assert_eq!(name("Christopher"), "C****");
        assert_eq!(name(""), "");
    }
}
