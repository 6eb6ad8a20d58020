//! A submitted form as its name/value pairs, for forms whose fields repeat
//! (one start and one end per row of hours), which a struct cannot hold.

use std::collections::HashMap;

use serde::Deserialize;

use crate::http::fields::FieldErrors;

/// The most a number field accepts before booking-core's own limits apply;
/// keeps the arithmetic far from overflow.
pub(super) const LARGEST_NUMBER: i64 = 100_000_000;

/// A whole, non-negative number; empty is an error when `required`.
pub(super) fn number(
    text: &str,
    field: &str,
    errors: &mut FieldErrors,
    required: bool,
) -> Option<i64> {
    let text = text.trim();
    if text.is_empty() {
        if required {
            errors.add(field, "This field is required.");
        }
        return None;
    }
    match text.parse::<i64>() {
        Ok(value) if value < 0 => {
            errors.add(field, "Must be zero or more.");
            None
        }
        Ok(value) if value > LARGEST_NUMBER => {
            errors.add(field, "This number is too large.");
            None
        }
        Ok(value) => Some(value),
        Err(_) => {
            errors.add(field, "Enter a whole number.");
            None
        }
    }
}

/// The fields of an `application/x-www-form-urlencoded` body: every value of
/// each name, in the order sent (browsers send fields in page order).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(super) struct FormFields {
    values: HashMap<String, Vec<String>>,
    /// Names in the order of their first appearance.
    order: Vec<String>,
}

impl FormFields {
    /// The fields of `pairs`, in order.
    pub(super) fn from_pairs<N: Into<String>, V: Into<String>>(
        pairs: impl IntoIterator<Item = (N, V)>,
    ) -> Self {
        let mut fields = FormFields::default();
        for (name, value) in pairs {
            fields.push(name.into(), value.into());
        }
        fields
    }

    fn push(&mut self, name: String, value: String) {
        match self.values.get_mut(&name) {
            Some(values) => values.push(value),
            None => {
                self.order.push(name.clone());
                self.values.insert(name, vec![value]);
            }
        }
    }

    /// The first value of `name`, or `""`.
    pub(super) fn first(&self, name: &str) -> &str {
        self.all(name).first().map_or("", String::as_str)
    }

    /// Every value of `name`, in order.
    pub(super) fn all(&self, name: &str) -> &[String] {
        self.values.get(name).map_or(&[], Vec::as_slice)
    }

    /// Every name sent, in the order of its first appearance.
    pub(super) fn names(&self) -> impl Iterator<Item = &str> {
        self.order.iter().map(String::as_str)
    }
}

impl<'de> Deserialize<'de> for FormFields {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Vec::<(String, String)>::deserialize(deserializer).map(FormFields::from_pairs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeated_names_keep_their_order() {
        let fields: FormFields =
            serde_urlencoded::from_str("a=1&b=x&a=2&c=&a=3").expect("a form body");
        assert_eq!(fields.all("a"), ["1", "2", "3"]);
        assert_eq!(fields.first("b"), "x");
        assert_eq!(fields.first("missing"), "");
        assert_eq!(fields.names().collect::<Vec<_>>(), ["a", "b", "c"]);
    }
}
