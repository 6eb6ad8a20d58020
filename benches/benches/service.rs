//! Criterion benchmark of the in-memory `BookingService::create_booking`,
//! end to end with no I/O (`cargo bench -p benches --bench service`):
//! validation, the `MemoryLock`, the one context read, the availability
//! check, the cancel token and the insert.
//!
//! Every booking needs a free slot, so the store grows while criterion
//! iterates; to keep the measured work constant the service is rebuilt
//! (untimed) every [`CHUNK`] bookings, and the store never holds more than
//! `CHUNK` bookings.

use std::sync::Arc;
use std::time::{Duration, Instant};

use benches::backend::{register_organizers, service_over};
use benches::fixtures::{booking_request, load_slot, organizer_username};
use booking_core::memory::{MemoryLock, MemoryStore};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

/// Bookings made on one fresh service before it is replaced.
const CHUNK: u64 = 256;

fn create_booking(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a Tokio runtime");
    let mut group = c.benchmark_group("BookingService::create_booking");
    group.throughput(Throughput::Elements(1));
    group.bench_function("memory", |b| {
        b.iter_custom(|iters| {
            runtime.block_on(async {
                let mut measured = Duration::ZERO;
                let mut done = 0;
                while done < iters {
                    let service =
                        service_over(Arc::new(MemoryStore::new()), Arc::new(MemoryLock::new()));
                    register_organizers(&service, "bench", 1)
                        .await
                        .expect("organizer");
                    let username = organizer_username("bench", 0);
                    // The first booking resolves the organizer's id (cached after).
                    service
                        .create_booking(booking_request(&username, load_slot(0).expect("slot")))
                        .await
                        .expect("first booking");
                    let chunk = CHUNK.min(iters - done);
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
        })
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
