//! Invitation emails sent through a real SMTP server on loopback
//! (aiosmtpd, storing what it receives), read back and parsed.

mod support;

use std::sync::Arc;

use booking_calendar::BookingLinks;
use booking_calendar::email::{EmailConfig, EmailSink, EmailWorker, Recipient, WorkReport};
use booking_core::chrono::{DateTime, Duration, TimeZone, Utc};
use booking_core::queue::RetrySchedule;
use booking_core::{
    Attendee, Booking, BookingRequest, BookingService, Credential, Location, ManualClock,
    MemoryStore, RescheduleRequest, TimeRange,
};
use icalendar::parser::{read_calendar, unfold};
use mail_parser::{MessageParser, MimeHeaders as _};
use support::{
    Server, SmtpTls, calendar_property, received, register_ada, smtp_server, smtp_server_tls,
};

const HOST: &str = "booking.example.com";
const ATTENDEE: &str = "grace@example.com";
const ORGANIZER: &str = "ada@example.com";

fn at(day: u32, hour: u32, minute: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, day, hour, minute, 0)
        .unwrap()
}

async fn service(clock: Arc<ManualClock>) -> BookingService {
    let service = BookingService::new(MemoryStore::new())
        .with_clock(clock)
        .with_event_sink(EmailSink::new())
        .with_retry_schedule(RetrySchedule::new(vec![Duration::seconds(30); 5]));
    let phone = Location::Phone {
        number: "+44 20 7946 0000".to_owned(),
    };
    register_ada(
        &service,
        (ORGANIZER, "Ada Lovelace"),
        ("09:00", "17:00"),
        "Intro <call> & chat",
        Some(phone),
    )
    .await;
    service
}

fn worker(service: &BookingService, smtp: &Server) -> EmailWorker {
    let url = format!("smtp://127.0.0.1:{}", smtp.port);
    worker_with(
        service,
        EmailConfig::from_url(&url, "Bookings <bookings@example.com>").unwrap(),
    )
}

fn worker_with(service: &BookingService, config: EmailConfig) -> EmailWorker {
    EmailWorker::new(service.clone(), config, HOST)
        .unwrap()
        .with_links(|booking: &Booking, recipient: Recipient| BookingLinks {
            reschedule: Some(format!(
                "https://{HOST}/r/{}?for={}",
                booking.id,
                recipient.name()
            )),
            cancel: Some(format!(
                "https://{HOST}/c/{}?for={}",
                booking.id,
                recipient.name()
            )),
        })
}

async fn book(service: &BookingService) -> (Booking, Credential) {
    let slot = TimeRange::starting_at(at(2, 10, 0), Duration::minutes(30)).unwrap();
    let created = service
        .create_booking(
            BookingRequest::new("ada", slot, Attendee::new("Grace Hopper", ATTENDEE))
                .event_type("intro"),
        )
        .await
        .unwrap();
    (created.booking, Credential::from(&created.cancel_token))
}

/// What one received email says.
#[derive(Debug)]
struct Received {
    envelope_to: String,
    to: String,
    reply_to: String,
    subject: String,
    text: String,
    html: String,
    content_type: String,
    method_param: String,
    method: String,
    uid: String,
    sequence: u32,
    status: String,
}

fn parse(raw: &str) -> Received {
    let message = MessageParser::default()
        .parse(raw.as_bytes())
        .expect("a MIME message");
    let envelope_to = message
        .header_raw("X-RcptTo")
        .unwrap_or_default()
        .trim()
        .to_owned();
    let reply_to = message
        .reply_to()
        .and_then(|a| a.first())
        .and_then(|a| a.address())
        .unwrap_or_default()
        .to_owned();
    let to = message
        .to()
        .and_then(|a| a.first())
        .and_then(|a| a.address())
        .unwrap_or_default()
        .to_owned();
    let attachments: Vec<_> = message.attachments().collect();
    assert_eq!(attachments.len(), 1, "one attachment");
    let attachment = attachments[0];
    assert_eq!(attachment.attachment_name(), Some("invite.ics"));
    let content_type = attachment.content_type().expect("a content type");
    let ics = String::from_utf8(attachment.contents().to_vec()).unwrap();
    let unfolded = unfold(&ics);
    let calendar = read_calendar(&unfolded).unwrap();
    let event = &calendar.components[0];
    let event_prop = |name: &str| {
        event
            .find_prop(name)
            .map(|p| p.val.as_str().to_owned())
            .unwrap_or_default()
    };
    Received {
        envelope_to,
        to,
        reply_to,
        subject: message.subject().unwrap_or_default().to_owned(),
        text: message.body_text(0).unwrap_or_default().into_owned(),
        html: message.body_html(0).unwrap_or_default().into_owned(),
        content_type: format!(
            "{}/{}",
            content_type.ctype(),
            content_type.subtype().unwrap_or_default()
        ),
        method_param: content_type
            .attribute("method")
            .unwrap_or_default()
            .to_owned(),
        method: calendar_property(&calendar, "METHOD").unwrap_or_default(),
        uid: event_prop("UID"),
        sequence: event_prop("SEQUENCE").parse().unwrap(),
        status: event_prop("STATUS"),
    }
}

fn all_received(smtp: &Server) -> Vec<Received> {
    let mut all: Vec<Received> = received(smtp).iter().map(|raw| parse(raw)).collect();
    all.sort_by(|a, b| (a.sequence, &a.to).cmp(&(b.sequence, &b.to)));
    all
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invitations_updates_and_cancellations_reach_both_people() {
    let smtp = smtp_server(true);
    let clock = Arc::new(ManualClock::new(at(1, 8, 0)));
    let service = service(clock.clone()).await;
    let worker = worker(&service, &smtp);

    let (booking, credential) = book(&service).await;
    assert_eq!(
        worker.run_once().await.unwrap(),
        WorkReport {
            sent: 2,
            retried: 0,
            dead: 0
        }
    );
    let uid = format!("{}@{HOST}", booking.id);
    let first = all_received(&smtp);
    assert_eq!(first.len(), 2);
    for (mail, (address, recipient, other)) in first.iter().zip([
        (ORGANIZER, "organizer", ATTENDEE),
        (ATTENDEE, "attendee", ORGANIZER),
    ]) {
        assert_eq!(mail.envelope_to, address);
        assert_eq!(mail.to, address);
        assert_eq!(mail.reply_to, other, "replies go to the other party");
        assert!(
            mail.subject.starts_with("Invitation: Intro <call> & chat"),
            "{}",
            mail.subject
        );
        assert!(
            mail.subject
                .contains("Wednesday 2 December 2026, 10:00–10:30 (Europe/London)")
        );
        assert!(
            mail.text
                .contains("When: Wednesday 2 December 2026, 10:00–10:30 (Europe/London)")
        );
        assert!(mail.text.contains("Where: +44 20 7946 0000"));
        assert!(mail.text.contains(&format!(
            "Cancel: https://{HOST}/c/{}?for={recipient}",
            booking.id
        )));
        assert!(
            mail.html.contains("Intro &lt;call&gt; &amp; chat"),
            "{}",
            mail.html
        );
        assert!(mail.html.contains(&format!(
            "<a href=\"https://{HOST}/r/{}?for={recipient}\">",
            booking.id
        )));
        assert_eq!(mail.content_type, "text/calendar");
        assert_eq!(mail.method_param, "REQUEST");
        assert_eq!(mail.method, "REQUEST");
        assert_eq!(mail.status, "CONFIRMED");
        assert_eq!(mail.uid, uid);
        assert_eq!(mail.sequence, 0);
    }

    clock.advance(Duration::minutes(1));
    let later = TimeRange::starting_at(at(3, 14, 0), Duration::minutes(30)).unwrap();
    service
        .reschedule(RescheduleRequest::new(booking.id, later), &credential)
        .await
        .unwrap();
    assert_eq!(worker.run_once().await.unwrap().sent, 2);
    clock.advance(Duration::minutes(1));
    service
        .cancel_booking(booking.id, &credential)
        .await
        .unwrap();
    assert_eq!(worker.run_once().await.unwrap().sent, 2);

    let all = all_received(&smtp);
    assert_eq!(all.len(), 6);
    let moved: Vec<&Received> = all.iter().filter(|m| m.sequence == 1).collect();
    let cancelled: Vec<&Received> = all.iter().filter(|m| m.sequence == 2).collect();
    assert_eq!(moved.len(), 2);
    assert_eq!(cancelled.len(), 2);
    for mail in &moved {
        assert_eq!(
            (mail.method.as_str(), mail.method_param.as_str()),
            ("REQUEST", "REQUEST")
        );
        assert_eq!(mail.uid, uid);
        assert!(mail.subject.starts_with("Moved: "), "{}", mail.subject);
        assert!(
            mail.text
                .contains("Was: Wednesday 2 December 2026, 10:00–10:30")
        );
        assert!(
            mail.text
                .contains("When: Thursday 3 December 2026, 14:00–14:30")
        );
    }
    for mail in &cancelled {
        assert_eq!(
            (mail.method.as_str(), mail.method_param.as_str()),
            ("CANCEL", "CANCEL")
        );
        assert_eq!(mail.status, "CANCELLED");
        assert_eq!(mail.uid, uid);
        assert!(mail.sequence > moved[0].sequence);
        assert!(mail.subject.starts_with("Cancelled: "));
        assert!(
            !mail.text.contains("Cancel: https"),
            "no links on a cancelled booking"
        );
    }
    let mut recipients: Vec<&str> = cancelled.iter().map(|m| m.envelope_to.as_str()).collect();
    recipients.sort_unstable();
    assert_eq!(recipients, [ORGANIZER, ATTENDEE]);
    assert_eq!(worker.run_once().await.unwrap(), WorkReport::default());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mail_server_that_is_down_then_up_gets_each_mail_once_after_a_retry() {
    let mut smtp = smtp_server(false);
    let clock = Arc::new(ManualClock::new(at(1, 8, 0)));
    let service = service(clock.clone()).await;
    let worker = worker(&service, &smtp);

    // The booking itself does not wait for, or fail with, the mail server.
    let (booking, _) = book(&service).await;
    assert_eq!(
        worker.run_once().await.unwrap(),
        WorkReport {
            sent: 0,
            retried: 2,
            dead: 0
        }
    );

    smtp.start();
    // Not due yet: the retry waits for its delay.
    assert_eq!(worker.run_once().await.unwrap(), WorkReport::default());
    assert!(received(&smtp).is_empty());

    clock.advance(Duration::seconds(31));
    assert_eq!(worker.run_once().await.unwrap().sent, 2);
    clock.advance(Duration::minutes(10));
    assert_eq!(worker.run_once().await.unwrap(), WorkReport::default());

    let all = all_received(&smtp);
    assert_eq!(all.len(), 2, "each mail arrives once");
    let mut recipients: Vec<&str> = all.iter().map(|m| m.envelope_to.as_str()).collect();
    recipients.sort_unstable();
    assert_eq!(recipients, [ORGANIZER, ATTENDEE]);
    assert!(
        all.iter()
            .all(|m| m.uid == format!("{}@{HOST}", booking.id))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_is_used_when_the_url_says_so_and_the_certificate_is_checked() {
    for (tls, url) in [
        (SmtpTls::StartTls, "smtp://127.0.0.1:{port}?tls=required"),
        (SmtpTls::Implicit, "smtps://127.0.0.1:{port}"),
    ] {
        let (smtp, ca) = smtp_server_tls(tls);
        let url = url.replace("{port}", &smtp.port.to_string());
        let from = "Bookings <bookings@example.com>";
        let clock = Arc::new(ManualClock::new(at(1, 8, 0)));
        let service = service(clock.clone()).await;

        // Without the test CA the server's certificate is not trusted:
        // nothing is sent, the jobs wait for a retry.
        let untrusting = worker_with(&service, EmailConfig::from_url(&url, from).unwrap());
        book(&service).await;
        assert_eq!(untrusting.run_once().await.unwrap().retried, 2, "{url}");
        assert!(received(&smtp).is_empty());

        let trusting = worker_with(
            &service,
            EmailConfig::from_url(&url, from)
                .unwrap()
                .with_root_certificate(ca.as_bytes())
                .unwrap(),
        );
        clock.advance(Duration::seconds(31));
        assert_eq!(trusting.run_once().await.unwrap().sent, 2, "{url}");
        let all = all_received(&smtp);
        assert_eq!(all.len(), 2, "{url}");
        assert!(all.iter().all(|m| m.method == "REQUEST"));
    }
}
