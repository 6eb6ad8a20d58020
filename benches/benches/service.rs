//! Criterion benchmark of the in-memory `BookingService::create_booking`,
//! end to end with no I/O (`cargo bench -p benches --bench service`):
//! validation, the `MemoryLock`, the one context read, the availability
//! check, the cancel token and the insert.
//!
//! Every booking needs a free slot, so the store grows while criterion
//! iterates; to keep the measured work constant the service is rebuilt
//! (untimed) every [`CHUNK`] bookings, so the organizer never holds more
//! than `CHUNK` bookings. A second benchmark does the same while another
//! organizer holds 10,000 bookings.

use std::sync::Arc;
use std::time::{Duration, Instant};

use benches::backend::{register_organizers, service_over};
use benches::fixtures::{booking_request, load_slot, organizer_username};
use benches::scenario::new_booking;
use booking_core::memory::{MemoryLock, MemoryStore};
use booking_core::service::BookingService;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

/// Bookings made on one fresh service before it is replaced.
const CHUNK: u64 = 256;

/// Bookings of another organizer in the second benchmark.
const OTHER_BOOKINGS: u64 = 10_000;

/// A fresh in-memory service with organizer `bench0` (whose id is already
/// cached by one booking) and, when `others > 0`, organizer `bench1` holding
/// `others` bookings.
async fn fresh_service(others: u64) -> BookingService {
    let store = Arc::new(MemoryStore::new());
    let service = service_over(store.clone(), Arc::new(MemoryLock::new()));
    let ids = register_organizers(&service, "bench", 2)
        .await
        .expect("organizers");
    for slot in 0..others {
        booking_core::store::BookingStore::insert_booking(
            store.as_ref(),
            new_booking(ids[1], slot).expect("booking"),
        )
        .await
        .expect("prefill");
    }
    service
        .create_booking(booking_request(
            &organizer_username("bench", 0),
            load_slot(0).expect("slot"),
        ))
        .await
        .expect("first booking");
    service
}

/// Times `iters` bookings on `bench0`, on a fresh service every `chunk`.
fn bookings(runtime: &tokio::runtime::Runtime, iters: u64, chunk: u64, others: u64) -> Duration {
    runtime.block_on(async {
        let username = organizer_username("bench", 0);
        let mut measured = Duration::ZERO;
        let mut done = 0;
        while done < iters {
            let service = fresh_service(others).await;
            let chunk = chunk.min(iters - done);
            let requests: Vec<_> = (1..=chunk)
                .map(|slot| booking_request(&username, load_slot(slot).expect("slot")))
                .collect();
            let start = Instant::now();
            for request in requests {
                service.create_booking(request).await.expect("a free slot");
            }
            measured += start.elapsed();
            done += chunk;
        }
        measured
    })
}

fn create_booking(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a Tokio runtime");
    let mut group = c.benchmark_group("BookingService::create_booking");
    group.throughput(Throughput::Elements(1));
    group.bench_function("memory", |b| {
        b.iter_custom(|iters| bookings(&runtime, iters, CHUNK, 0))
    });
    // The same while another organizer holds 10,000 bookings: shows whether
    // a booking's cost depends on bookings that are not its organizer's (it
    // did when MemoryStore scanned every booking; it keeps an index per
    // organizer since). Filling a store takes a while, so each sample fills
    // one store and makes all its bookings there; samples are short, so the
    // organizer's own bookings stay few next to the 10,000.
    group.sample_size(10);
    group.warm_up_time(Duration::from_millis(100));
    group.measurement_time(Duration::from_millis(500));
    group.bench_function("memory_with_10000_other_bookings", |b| {
        b.iter_custom(|iters| bookings(&runtime, iters, iters, OTHER_BOOKINGS))
    });
    group.finish();
}

fn config() -> Criterion {
    Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
}

criterion_group! {
    name = service;
    config = config();
    targets = create_booking
}
criterion_main!(service);
