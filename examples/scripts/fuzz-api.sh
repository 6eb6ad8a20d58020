#!/usr/bin/env bash
# Fuzzes the HTTP API from its own OpenAPI description with schemathesis,
# an independent tool: every operation of /api/openapi.json gets generated
# requests (valid and invalid), and every reply must be no 5xx, have a
# described status, content type and headers, and match its schema; invalid
# requests must be refused (every schemathesis check but one, see CHECKS).
#
# It installs schemathesis (pinned, from PyPI) into a virtualenv under the
# cargo target directory the first time (and reuses it after), builds the
# `booking-service` binary, starts it on a free loopback port with the
# in-memory store and rate limits off, registers an organizer with working
# hours, an event type, a booking, a hold and a webhook endpoint so that
# fuzzed requests also reach the code behind authentication and lookups,
# runs schemathesis three times (every operation with that organizer's
# token but the two below; token rotation alone, which would end that
# token; connecting calendars as another organizer, whose slots are not
# fuzzed, since a connected calendar that cannot be fetched makes every
# slot lookup 503 `calendar_unavailable`), and stops the service. Takes 1 to
# 2 minutes, plus the build and, the first time, the install.
#
# The service gets a test BOOKING_SECRET_KEY (feed tokens and CalDAV
# passwords need one) and keeps the default outbound URL policy
# (BOOKING_ALLOW_PRIVATE_URLS=0): calendar and webhook URLs must name public
# addresses, so fuzzing never reaches loopback or the private network. The
# fixtures' URLs are under `.invalid`, which never resolves.
#
#   bash examples/scripts/fuzz-api.sh              # the default budget
#   FUZZ_MAX_EXAMPLES=100 bash examples/scripts/fuzz-api.sh   # more cases per operation
#   FUZZ_SEED=1 bash examples/scripts/fuzz-api.sh             # reproducible
#   FUZZ_WARNINGS=1 bash examples/scripts/fuzz-api.sh         # schemathesis's coverage warnings too
#
# Exit status: 0 when schemathesis found nothing, non-zero otherwise.
set -euo pipefail
cd "$(dirname "$0")/../.."

SCHEMATHESIS_VERSION=4.32.5
MAX_EXAMPLES=${FUZZ_MAX_EXAMPLES:-15}
SEED=${FUZZ_SEED:-}
WARNINGS=()
[ -z "${FUZZ_WARNINGS:-}" ] && WARNINGS=(--warnings off)
# Every check but positive_data_acceptance: the schemas say what each field
# is, not every rule of booking-core (a slot of 3 minutes is refused with a
# described 400), so requests the schemas allow may be refused.
CHECKS=${FUZZ_CHECKS:-all}
EXCLUDED_CHECKS=positive_data_acceptance

target_dir=$(cargo metadata --format-version 1 --no-deps |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')
venv=${BOOKING_FUZZ_VENV:-$target_dir/fuzz-venv}
schemathesis="$venv/bin/schemathesis"
if ! "$schemathesis" --version 2>/dev/null | grep -q "$SCHEMATHESIS_VERSION"; then
    echo "fuzz-api.sh: installing schemathesis $SCHEMATHESIS_VERSION from PyPI into $venv" >&2
    if ! python3 -m venv "$venv"; then
        echo "fuzz-api.sh: python3 cannot make a virtualenv (on Debian: apt-get install python3-venv)" >&2
        exit 1
    fi
    "$venv/bin/pip" install --quiet --disable-pip-version-check "schemathesis==$SCHEMATHESIS_VERSION"
fi

# BOOKING_SERVICE_BIN: a binary already built (scripts/test.sh passes the
# one its tests built, so nothing is compiled twice).
if [ -n "${BOOKING_SERVICE_BIN:-}" ] && [ -x "$BOOKING_SERVICE_BIN" ]; then
    service=$BOOKING_SERVICE_BIN
else
    cargo build --locked --quiet -p booking-examples --bin booking-service
    service="$target_dir/debug/booking-service"
fi

work=$(mktemp -d)
pid=
cleanup() {
    if [ -n "$pid" ]; then
        kill "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT

# Port 0: the service picks a free port and logs it.
BOOKING_ADDR=127.0.0.1:0 DATABASE_URL=memory:// BOOKING_RATE_LIMIT=off RUST_LOG=warn,booking_examples=info \
    BOOKING_SECRET_KEY=fuzz-api-test-secret-key-not-for-production BOOKING_ALLOW_PRIVATE_URLS=0 \
    "$service" >"$work/service.log" 2>&1 &
pid=$!
base=
for _ in $(seq 1 200); do
    base=$(grep -o 'listening on http://[0-9.]*:[0-9]*' "$work/service.log" | head -n 1 | sed 's/^listening on //' || true)
    [ -n "$base" ] && break
    if ! kill -0 "$pid" 2>/dev/null; then
        cat "$work/service.log" >&2
        echo "fuzz-api.sh: the service did not start" >&2
        exit 1
    fi
    sleep 0.1
done
if [ -z "$base" ]; then
    cat "$work/service.log" >&2
    echo "fuzz-api.sh: the service did not say where it listens" >&2
    exit 1
fi
echo "fuzz-api.sh: booking-service at $base" >&2

# Fixtures: an organizer with working hours every day, an event type, a
# schedule, a booking, a hold, a webhook endpoint and a feed token; another
# organizer with a connected calendar; the config binds path, query, header
# and body values to them half of the time, so fuzzed requests get past
# "not found".
python3 - "$base" "$work" <<'PY'
import json
import sys
import urllib.error
import urllib.request
from datetime import datetime, timedelta, timezone

base, work = sys.argv[1], sys.argv[2]


def call(method, path, body=None, token=None):
    request = urllib.request.Request(base + path, method=method)
    request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", "Bearer " + token)
    data = None if body is None else json.dumps(body).encode()
    try:
        with urllib.request.urlopen(request, data) as response:
            return json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        sys.exit(f"fixture {method} {path}: {error.code} {error.read().decode()}")


def register(username):
    return call("POST", "/api/organizers", {
        "username": username, "email": f"{username}@example.com",
        "name": "Fuzz", "timeZone": "Europe/Berlin"})["apiToken"]


token = register("fuzz")
day = [{"start": "00:00", "end": "24:00"}]
names = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
call("PUT", "/api/settings", {
    "timeZone": "Europe/Berlin", "weeklyHours": {name: day for name in names},
    "slotMinutes": 30, "maxAdvanceDays": 60}, token)
call("POST", "/api/event-types", {
    "slug": "intro", "title": "Intro", "durationMinutes": 30, "durationOptions": [30, 60]}, token)
schedule = call("POST", "/api/schedules", {
    "name": "Evenings", "weeklyHours": {"monday": [{"start": "18:00", "end": "21:00"}]}}, token)
start = (datetime.now(timezone.utc) + timedelta(days=2)).replace(minute=0, second=0, microsecond=0)
booked = call("POST", "/api/bookings", {
    "organizerUsername": "fuzz", "attendantName": "Grace", "attendantEmail": "grace@example.com",
    "startTime": start.isoformat().replace("+00:00", "Z"), "durationMinutes": 30})
held = call("POST", "/api/organizers/fuzz/holds", {
    "startTime": (start + timedelta(hours=2)).isoformat().replace("+00:00", "Z"),
    "durationMinutes": 30})
webhook = call("POST", "/api/webhooks", {
    "url": "https://hooks.example.invalid/booking",
    "events": ["booking.created", "booking.rescheduled", "booking.cancelled"]}, token)
feed = call("GET", "/api/feed-token", None, token)
calendar_token = register("fuzzcal")
calendar = call("POST", "/api/calendars", {
    "kind": "ics", "url": "https://calendar.example.invalid/busy.ics", "name": "Busy"},
    calendar_token)

with open(f"{work}/token", "w") as f:
    f.write(token)
with open(f"{work}/rotate-token", "w") as f:
    f.write(register("fuzzrotate"))
with open(f"{work}/calendar-token", "w") as f:
    f.write(calendar_token)

soon = datetime.now(timezone.utc).replace(microsecond=0)
instants = [(soon + timedelta(days=d)).isoformat().replace("+00:00", "Z") for d in (0, 1, 7, 60)]
config = f"""
[dictionaries.usernames]
values = ["fuzz", "FUZZ"]
[dictionaries.slugs]
values = ["intro", "default"]
[dictionaries.ids]
values = ["{booked['booking']['id']}", "{schedule['id']}", "{held['holdId']}", "{webhook['id']}", "{calendar['id']}"]
[dictionaries.tokens]
values = ["{booked['cancelToken']}"]
[dictionaries.holdTokens]
values = ["{held['holdToken']}"]
[dictionaries.feedTokens]
values = ["{feed['token']}"]
[dictionaries.instants]
values = {json.dumps(instants)}
[dictionaries.minutes]
values = [30, 60]

[parameters]
"path.username" = {{ dictionary = "usernames", probability = 0.5 }}
"path.slug" = {{ dictionary = "slugs", probability = 0.5 }}
"path.id" = {{ dictionary = "ids", probability = 0.5 }}
"query.cancelToken" = {{ dictionary = "tokens", probability = 0.5 }}
"query.eventType" = {{ dictionary = "slugs", probability = 0.5 }}
"query.start" = {{ dictionary = "instants", probability = 0.5 }}
"query.end" = {{ dictionary = "instants", probability = 0.5 }}
"query.duration" = {{ dictionary = "minutes", probability = 0.5 }}
"body.organizerUsername" = {{ dictionary = "usernames", probability = 0.5 }}
"body.startTime" = {{ dictionary = "instants", probability = 0.5 }}
"body.cancelToken" = {{ dictionary = "tokens", probability = 0.5 }}
"body.holdToken" = {{ dictionary = "holdTokens", probability = 0.5 }}
"header.Hold-Token" = {{ dictionary = "holdTokens", probability = 0.5 }}
"query.token" = {{ dictionary = "feedTokens", probability = 0.5 }}
"""
with open(f"{work}/schemathesis.toml", "w") as f:
    f.write(config)
PY

# One worker: with two, Python 3.11's `ast` module can fail in hypothesis
# when both threads parse at once ("AST constructor recursion depth
# mismatch"), a crash of the tool, not a finding about the service.
run() {
    local seed_args=()
    [ -n "$SEED" ] && seed_args=(--seed "$SEED")
    # From the scratch directory: schemathesis keeps a cache
    # (`.schemathesis/`) in its working directory.
    (cd "$work" && "$schemathesis" --no-color --config-file "$work/schemathesis.toml" run "$base/api/openapi.json" \
        --checks "$CHECKS" --exclude-checks "$EXCLUDED_CHECKS" --max-examples "$MAX_EXAMPLES" --workers 1 \
        --request-timeout 10 --suppress-health-check all \
        ${WARNINGS[@]+"${WARNINGS[@]}"} ${seed_args[@]+"${seed_args[@]}"} "$@")
}

status=0
echo "fuzz-api.sh: every operation but token rotation and connecting calendars, as organizer 'fuzz'" >&2
run -H "Authorization: Bearer $(cat "$work/token")" \
    --exclude-operation-id rotateToken --exclude-operation-id connectCalendar || status=$?
echo "fuzz-api.sh: token rotation" >&2
run -H "Authorization: Bearer $(cat "$work/rotate-token")" \
    --include-operation-id rotateToken || status=$?
echo "fuzz-api.sh: connected calendars, as organizer 'fuzzcal'" >&2
run -H "Authorization: Bearer $(cat "$work/calendar-token")" \
    --include-operation-id connectCalendar --include-operation-id listCalendars \
    --include-operation-id deleteCalendar || status=$?

if ! kill -0 "$pid" 2>/dev/null; then
    cat "$work/service.log" >&2
    echo "fuzz-api.sh: the service died during the run" >&2
    status=1
fi
if grep -q 'panicked' "$work/service.log"; then
    grep -B2 -A5 'panicked' "$work/service.log" >&2
    echo "fuzz-api.sh: a handler panicked" >&2
    status=1
fi
if [ "$status" -eq 0 ]; then
    echo "fuzz-api.sh: schemathesis found no 5xx and no reply that breaks the description" >&2
fi
exit "$status"
