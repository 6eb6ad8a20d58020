//! The invitation email itself: subject, plain text and HTML bodies, and
//! the `.ics` attachment whose MIME type carries the iTIP method.

use booking_core::event::BookingEventKind;
use booking_core::{TimeRange, Tz};
use lettre::Message;
use lettre::message::header::ContentType;
use lettre::message::{Attachment, Mailbox, MultiPart};

use super::EmailJob;
use crate::ics::{BookingLinks, Invitation, clean_text};

/// A message that cannot be made (it will never be sendable).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MessageError {
    /// The recipient's address cannot be used.
    #[error("the address {0:?} cannot receive email")]
    Address(String),
    /// `lettre` refused to build the message.
    #[error("the message cannot be built: {0}")]
    Build(String),
}

/// The email for `job`, from `from`, with the booking's invitation (UIDs
/// under `host`) attached as `invite.ics`, `text/calendar;
/// method=REQUEST` or `method=CANCEL`.
pub fn invitation_message(
    job: &EmailJob,
    from: &Mailbox,
    host: &str,
    links: BookingLinks,
) -> Result<Message, MessageError> {
    let booking = &job.event.booking;
    let invitation = Invitation::new(booking, &job.organizer, host)
        .location(job.location.as_ref())
        .links(links.clone());
    let method = invitation.method();
    let ics = invitation.to_ics();

    let to_address = job
        .to
        .email
        .trim()
        .parse()
        .map_err(|_| MessageError::Address(job.to.email.clone()))?;
    let to = Mailbox::new(Some(one_line(&job.to.name)), to_address);
    let when = format_range(booking.time, job.zone);
    let title = one_line(&booking.title);
    let subject = match job.event.kind {
        BookingEventKind::Created => format!("Invitation: {title} – {when}"),
        BookingEventKind::Rescheduled => format!("Moved: {title} – {when}"),
        _ => format!("Cancelled: {title} – {when}"),
    };

    let mut lines: Vec<(String, String)> = Vec::new();
    let headline = match job.event.kind {
        BookingEventKind::Created => "is booked",
        BookingEventKind::Rescheduled => "has moved",
        _ => "is cancelled",
    };
    lines.push(("When".into(), when.clone()));
    if let Some(previous) = job.event.previous_time {
        lines.push(("Was".into(), format_range(previous, job.zone)));
    }
    if let Some(location) = &job.location {
        lines.push(("Where".into(), one_line(location.detail())));
    }
    lines.push((
        "Who".into(),
        format!(
            "{} (organizer), {} (attendee)",
            one_line(&job.organizer.name),
            one_line(&booking.attendee.name)
        ),
    ));
    if booking.is_active() {
        if let Some(url) = &links.reschedule {
            lines.push(("Reschedule".into(), url.clone()));
        }
        if let Some(url) = &links.cancel {
            lines.push(("Cancel".into(), url.clone()));
        }
    }
    let greeting = format!("Hello {},", one_line(&job.to.name));
    let summary = format!("“{title}” {headline}.");
    let footer = "The calendar invitation is attached.";

    let mut text = format!("{greeting}\n\n{summary}\n\n");
    for (label, value) in &lines {
        text.push_str(&format!("{label}: {value}\n"));
    }
    if let Some(description) = &booking.description {
        text.push_str(&format!("\n{}\n", clean_text(description)));
    }
    text.push_str(&format!("\n{footer}\n"));

    let mut html = format!(
        "<!doctype html><html><body><p>{}</p><p><strong>{}</strong></p><table>",
        escape_html(&greeting),
        escape_html(&summary)
    );
    for (label, value) in &lines {
        let value = if value.starts_with("https://") || value.starts_with("http://") {
            format!(
                "<a href=\"{}\">{}</a>",
                escape_html(value),
                escape_html(value)
            )
        } else {
            escape_html(value)
        };
        html.push_str(&format!(
            "<tr><th align=\"left\">{}</th><td>{value}</td></tr>",
            escape_html(label)
        ));
    }
    html.push_str("</table>");
    if let Some(description) = &booking.description {
        html.push_str(&format!(
            "<p>{}</p>",
            escape_html(&clean_text(description)).replace('\n', "<br>")
        ));
    }
    html.push_str(&format!("<p>{footer}</p></body></html>"));

    let calendar_type = ContentType::parse(&format!(
        "text/calendar; charset=utf-8; method={}",
        method.name()
    ))
    .map_err(|e| MessageError::Build(e.to_string()))?;
    Message::builder()
        .from(from.clone())
        .reply_to(reply_to(job, from))
        .to(to)
        .subject(subject)
        .multipart(
            MultiPart::mixed()
                .multipart(MultiPart::alternative_plain_html(text, html))
                .singlepart(Attachment::new("invite.ics".to_owned()).body(ics, calendar_type)),
        )
        .map_err(|e| MessageError::Build(e.to_string()))
}

/// Replies go to the other party: the attendee's to the organizer, the
/// organizer's to the attendee (the sender when that address is unusable).
fn reply_to(job: &EmailJob, from: &Mailbox) -> Mailbox {
    let attendee = &job.event.booking.attendee;
    let (name, email) = match job.recipient {
        super::Recipient::Attendee => (&job.organizer.name, &job.organizer.email),
        super::Recipient::Organizer => (&attendee.name, &attendee.email),
    };
    email
        .trim()
        .parse()
        .map(|address| Mailbox::new(Some(one_line(name)), address))
        .unwrap_or_else(|_| from.clone())
}

/// `Tuesday 1 December 2026, 09:00–09:30 (Europe/London)`.
fn format_range(range: TimeRange, zone: Tz) -> String {
    let start = range.start().with_timezone(&zone);
    let end = range.end().with_timezone(&zone);
    let end_text = if start.date_naive() == end.date_naive() {
        end.format("%H:%M").to_string()
    } else {
        end.format("%A %-d %B %Y, %H:%M").to_string()
    };
    format!(
        "{}–{end_text} ({})",
        start.format("%A %-d %B %Y, %H:%M"),
        zone.name()
    )
}

/// Text for a header or a table cell: one line, no control characters.
fn one_line(text: &str) -> String {
    clean_text(text)
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}
