//! Books a meeting in memory and prints its invitation, the organizer's
//! feed token and feed: `cargo run -p booking-calendar --example invitation`.

use std::sync::Arc;

use booking_calendar::{BookingDetails, BookingLinks, FeedTokens, OrganizerFeed};
use booking_core::chrono::{Duration, Utc};
use booking_core::{
    Attendee, BookingRequest, BookingService, BookingStore, EventTypeDraft, LocalInterval,
    Location, MemoryStore, NewOrganizer, ScheduleDraft, SlotQuery, TimeRange, Tz, WeeklyHours,
};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let host = "booking.example.com";
    let store: Arc<dyn BookingStore> = Arc::new(MemoryStore::new());
    let service = BookingService::new(store.clone());

    let (ada, _api_token) = service
        .register_organizer(NewOrganizer::new(
            "ada",
            "ada@example.com",
            "Ada Lovelace",
            Tz::Europe__London,
        ))
        .await?;
    let hours = WeeklyHours::every_day(vec![LocalInterval::parse("09:00", "17:00")?]);
    service
        .create_schedule(&ada, ScheduleDraft::new("Working hours", hours))
        .await?;
    let mut intro = EventTypeDraft::new("intro", "Introduction", Duration::minutes(30));
    intro.location = Some(Location::Video {
        url: "https://meet.example.com/ada".to_owned(),
    });
    service.create_event_type(&ada, intro).await?;

    let week = TimeRange::starting_at(Utc::now(), Duration::days(7))?;
    let slots = service
        .available_slots(SlotQuery::new("ada", week).event_type("intro"))
        .await?;
    let first = slots.first().ok_or("no free slot this week")?;
    let created = service
        .create_booking(
            BookingRequest::new(
                "ada",
                *first,
                Attendee::new("Grace Hopper", "grace@example.com"),
            )
            .event_type("intro"),
        )
        .await?;

    // The invitation: what `GET /api/bookings/{id}/ics` serves and what the
    // emails attach. The links are the application's.
    let token = created.cancel_token.expose();
    let links = BookingLinks {
        reschedule: Some(format!(
            "https://{host}/bookings/{}/reschedule?token={token}",
            created.booking.id
        )),
        cancel: Some(format!(
            "https://{host}/bookings/{}/cancel?token={token}",
            created.booking.id
        )),
    };
    let ics = BookingDetails::of(&service, &created.booking)
        .await?
        .invitation(&created.booking, host, links);
    println!("--- invitation ---\n{ics}");

    // The organizer's feed, behind its own token.
    let tokens = FeedTokens::new(store.clone(), b"a long random server key");
    let feed_token = tokens.token(ada.id).await?;
    println!(
        "--- feed URL ---\nhttps://{host}/api/organizers/ada/calendar.ics?token={}\n",
        feed_token.expose()
    );
    let owner = tokens
        .organizer_for(feed_token.expose())
        .await?
        .ok_or("unknown token")?;
    let owner = service.organizer(owner).await?;
    println!(
        "--- feed ---\n{}",
        OrganizerFeed::new(store, host).render(&owner).await?
    );
    Ok(())
}
