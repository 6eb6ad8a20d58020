//! Where a meeting takes place, as the pages write it: a summary before
//! booking (the address, or only the kind of call), the details after
//! (the number to call, the link to join).

use booking_core::Location;
use maud::{Markup, html};

/// Before booking: an address in full; for calls only their kind, since
/// the number or link is for the people who booked.
pub(super) fn summary(location: &Location) -> Markup {
    html! {
        @match location {
            Location::InPerson { address } => { "In person: " span.location-detail { (address) } },
            Location::Phone { .. } => "Phone call",
            Location::Video { .. } => "Video call",
            other => (other.detail()),
        }
    }
}

/// After booking, and for the organizer: the address, the number or the link.
pub(super) fn details(location: &Location) -> Markup {
    html! {
        @match location {
            Location::InPerson { address } => { "In person: " span.location-detail { (address) } },
            Location::Phone { number } => { "Phone call: " span.location-detail { (number) } },
            // booking-core accepts only http and https links here.
            Location::Video { url } => {
                "Video call: " a.location-detail href=(url) rel="noopener noreferrer" target="_blank" { (url) }
            },
            other => (other.detail()),
        }
    }
}

/// One line for the organizer's lists.
pub(super) fn inline(location: &Location) -> Markup {
    details(location)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calls_keep_their_number_and_link_for_after_booking() {
        let video = Location::Video {
            url: "https://meet.example.com/a?b=<c>".into(),
        };
        assert_eq!(summary(&video).into_string(), "Video call");
        assert!(
            details(&video)
                .into_string()
                .contains(r#"href="https://meet.example.com/a?b=&lt;c&gt;""#)
        );
        let place = Location::InPerson {
            address: "<b>1 Main St</b>".into(),
        };
        assert!(
            summary(&place)
                .into_string()
                .contains("&lt;b&gt;1 Main St&lt;/b&gt;")
        );
    }
}
