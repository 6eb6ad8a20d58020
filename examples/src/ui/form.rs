//! A submitted form as its name/value pairs, for forms whose fields repeat
//! (one start and one end per row of hours), which a struct cannot hold.

use std::collections::HashMap;

use serde::Deserialize;

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
