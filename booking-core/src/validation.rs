//! Field-by-field validation of what clients send, with every failure naming
//! its field so a form can show the message next to the right input.

use std::fmt;

use serde::Serialize;

/// One refused field: its name as the client spelled it (the JSON name, e.g.
/// `attendantEmail`) and a human message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldError {
    /// The field's name in the request, e.g. `attendantEmail`.
    pub field: String,
    /// What is wrong and what is expected.
    pub message: String,
}

/// Every field a request got wrong, in the order they were checked.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, thiserror::Error)]
pub struct ValidationErrors {
    errors: Vec<FieldError>,
}

impl ValidationErrors {
    /// No errors yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// A single error.
    pub fn single(field: impl Into<String>, message: impl Into<String>) -> Self {
        let mut errors = Self::new();
        errors.add(field, message);
        errors
    }

    /// Records that `field` is wrong.
    pub fn add(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.errors.push(FieldError {
            field: field.into(),
            message: message.into(),
        });
    }

    /// Records `result`'s error, if any, against `field`, and passes the value on.
    pub fn check<T, E: fmt::Display>(&mut self, field: &str, result: Result<T, E>) -> Option<T> {
        match result {
            Ok(value) => Some(value),
            Err(error) => {
                self.add(field, error.to_string());
                None
            }
        }
    }

    /// Whether nothing was refused.
    pub fn is_empty(&self) -> bool {
        self.errors.is_empty()
    }

    /// The refused fields.
    pub fn errors(&self) -> &[FieldError] {
        &self.errors
    }

    /// The message for `field`, if it was refused.
    pub fn message_for(&self, field: &str) -> Option<&str> {
        self.errors
            .iter()
            .find(|e| e.field == field)
            .map(|e| e.message.as_str())
    }

    /// `Ok(value)` when nothing was refused, else `Err(self)`.
    pub fn into_result<T>(self, value: T) -> Result<T, Self> {
        if self.is_empty() {
            Ok(value)
        } else {
            Err(self)
        }
    }
}

impl fmt::Display for ValidationErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("invalid input: ")?;
        for (i, e) in self.errors.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            write!(f, "{}: {}", e.field, e.message)?;
        }
        Ok(())
    }
}

/// Checks a required text field: not blank, at most `max` characters.
/// The text itself is kept verbatim; only the check ignores surrounding spaces.
pub fn required_text(value: &str, min: usize, max: usize, what: &str) -> Result<(), String> {
    let chars = value.chars().count();
    if value.contains('\0') {
        Err(format!("{what} must not contain NUL characters"))
    } else if value.trim().is_empty() {
        Err(format!("{what} is required"))
    } else if chars < min {
        Err(format!("{what} must be at least {min} characters"))
    } else if chars > max {
        Err(format!(
            "{what} must be at most {max} characters (got {chars})"
        ))
    } else {
        Ok(())
    }
}

/// Checks an optional text field's length.
pub fn optional_text(value: Option<&str>, max: usize, what: &str) -> Result<(), String> {
    match value {
        Some(text) if text.chars().count() > max => {
            Err(format!("{what} must be at most {max} characters"))
        }
        Some(text) if text.contains('\0') => Err(format!("{what} must not contain NUL characters")),
        _ => Ok(()),
    }
}

/// Whether any string or key inside `value` contains a NUL character, which
/// databases (PostgreSQL's `text` and `jsonb`) cannot store.
pub fn json_contains_nul(value: &serde_json::Value) -> bool {
    use serde_json::Value;
    match value {
        Value::String(s) => s.contains('\0'),
        Value::Array(items) => items.iter().any(json_contains_nul),
        Value::Object(map) => map
            .iter()
            .any(|(k, v)| k.contains('\0') || json_contains_nul(v)),
        _ => false,
    }
}

/// The longest email address SMTP can carry (RFC 5321: 254 octets).
pub const MAX_EMAIL_LEN: usize = 254;

/// Checks an email address with the WHATWG HTML definition of a valid email
/// address (what browsers' `type=email` accepts), plus a dot in the domain and
/// RFC 5321's length limits: `local@label.label`, no spaces, no quoting.
pub fn email(value: &str) -> Result<(), String> {
    let refuse = || Err(format!("{value:?} is not a valid email address"));
    if value.len() > MAX_EMAIL_LEN {
        return Err(format!(
            "an email address must be at most {MAX_EMAIL_LEN} characters"
        ));
    }
    let Some((local, domain)) = value.split_once('@') else {
        return refuse();
    };
    let local_ok = !local.is_empty()
        && local.len() <= 64
        && local
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || ".!#$%&'*+/=?^_`{|}~-".contains(c));
    let labels: Vec<&str> = domain.split('.').collect();
    let domain_ok = labels.len() >= 2
        && labels.iter().all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        });
    if local_ok && domain_ok {
        Ok(())
    } else {
        refuse()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails() {
        for good in [
            "a@b.co",
            "first.last+tag@example.com",
            "x_y@sub.example.org",
        ] {
            assert!(email(good).is_ok(), "{good}");
        }
        let long = format!("{}@example.com", "a".repeat(300));
        for bad in [
            "",
            "plain",
            "@example.com",
            "a@",
            "a@b",
            "a b@example.com",
            "a@-x.com",
            "a@x..com",
            "<script>@x.com",
            long.as_str(),
        ] {
            assert!(email(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn text_limits() {
        assert!(required_text("  ", 1, 10, "Name").is_err());
        assert!(required_text("ab", 3, 10, "Username").is_err());
        assert!(required_text(&"x".repeat(11), 1, 10, "Name").is_err());
        assert!(required_text(" Ada ", 1, 10, "Name").is_ok());
        assert!(optional_text(Some("abc"), 2, "Description").is_err());
        assert!(optional_text(None, 2, "Description").is_ok());
        assert!(required_text("a\0b", 1, 10, "Name").is_err());
        assert!(optional_text(Some("a\0"), 10, "Description").is_err());
        assert!(json_contains_nul(&serde_json::json!({"a": ["x\0"]})));
        assert!(!json_contains_nul(&serde_json::json!({"a": ["x"]})));
    }
}
