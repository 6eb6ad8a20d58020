// The pages' only script. Everything works without it; it adds:
// - the visitor's time zone on a booking page reached without ?tz=,
// - the browser's time zone preselected on the sign-up page,
// - submitting the time-zone picker when it changes,
// - adding and removing rows of hours and dates in the hours editor in place
//   (without the script, those buttons submit the form and the server does it),
// - copying the new API token,
// - a confirmation before an organizer cancels a booking,
// - times in the browser's own zone on the attendee's cancel page,
// - no double submission of a form,
// - on a booking page, a hold of the time the visitor picks (the JSON API's
//   POST /api/organizers/{username}/holds), its countdown, and booking with
//   the hold's token (without the script, or when a hold is refused, the
//   form books as it always did).
(function () {
  "use strict";

  document.documentElement.className += " js";

  function browserZone() {
    try {
      return Intl.DateTimeFormat().resolvedOptions().timeZone || null;
    } catch (e) {
      return null;
    }
  }

  // 1. Time-zone detection: runs in <head>, before the page is drawn, and
  // only when the server asked for it (a booking page without ?tz=).
  if (document.querySelector('meta[name="detect-time-zone"]')) {
    var zone = browserZone();
    var params = new URLSearchParams(window.location.search);
    if (zone && !params.has("tz")) {
      params.set("tz", zone);
      window.location.replace(
        window.location.pathname + "?" + params.toString() + window.location.hash
      );
      return;
    }
  }

  // Dates as the server writes them: "Thu 3 Dec 2026", "09:00".
  function parts(date, zone) {
    var found = {};
    new Intl.DateTimeFormat("en-US", {
      timeZone: zone, weekday: "short", day: "numeric", month: "short",
      year: "numeric", hour: "2-digit", minute: "2-digit", hourCycle: "h23"
    }).formatToParts(date).forEach(function (part) {
      found[part.type] = part.value;
    });
    return {
      day: found.weekday + " " + found.day + " " + found.month + " " + found.year,
      clock: found.hour + ":" + found.minute
    };
  }

  // "Thu 3 Dec 2026, 00:00 – 01:00 (Asia/Tokyo)", the end's date written
  // when it is a later day (other than at midnight), as format::range does.
  function rangeText(start, end, zone) {
    var from = parts(start, zone);
    var until = parts(end, zone);
    var nextDay = parts(new Date(start.getTime() + 86400000), zone).day;
    var sameDay = until.day === from.day ||
      (until.clock === "00:00" && until.day === nextDay);
    return from.day + ", " + from.clock + " – " +
      (sameDay ? "" : until.day + ", ") + until.clock + " (" + zone + ")";
  }

  // The hours editor: Add and Remove buttons work in place.
  var rowCounter = 0;

  function fromTemplate(id, replacements) {
    var template = document.getElementById(id);
    if (!template) {
      return null;
    }
    var html = template.innerHTML;
    Object.keys(replacements).forEach(function (key) {
      html = html.split(key).join(replacements[key]);
    });
    var holder = document.createElement("div");
    holder.innerHTML = html.trim();
    return holder.firstElementChild;
  }

  function editHours(button) {
    var kind = button.getAttribute("data-edit");
    if (kind === "add") {
      var group = button.getAttribute("data-group");
      var list = button.closest(".intervals").querySelector(".interval-list");
      rowCounter += 1;
      var row = fromTemplate("hours-row-template", {
        "__GROUP__": group,
        "__INDEX__": "new" + rowCounter,
        "__LABEL__": button.getAttribute("data-label") || ""
      });
      if (!row || !list) {
        return false;
      }
      var last = list.querySelector(".interval:last-child input[name$='-end']");
      list.appendChild(row);
      if (last && last.value && last.value !== "00:00") {
        // Continue where the last row ended, for an hour.
        var start = last.value.slice(0, 5);
        var hour = parseInt(start.slice(0, 2), 10) + 1;
        if (hour < 24) {
          row.querySelector("input[name$='-start']").value = start;
          row.querySelector("input[name$='-end']").value =
            (hour < 10 ? "0" : "") + hour + start.slice(2);
        }
      }
      var owner = button.closest(".day-row");
      var toggle = owner && owner.querySelector("input.switch-input");
      if (toggle) {
        toggle.checked = true;
      }
      var custom = button.closest(".override");
      var own = custom && custom.querySelector("input[value='custom']");
      if (own) {
        own.checked = true;
      }
      row.querySelector("input").focus();
      return true;
    }
    if (kind === "remove") {
      var interval = button.closest(".interval");
      if (interval) {
        interval.parentNode.removeChild(interval);
      }
      return true;
    }
    if (kind === "add-override") {
      var container = document.querySelector("[data-overrides]");
      if (!container) {
        return false;
      }
      var key = parseInt(container.getAttribute("data-next-key") || "1", 10);
      container.setAttribute("data-next-key", String(key + 1));
      var item = fromTemplate("override-template", { "__KEY__": String(key) });
      if (!item) {
        return false;
      }
      container.appendChild(item);
      item.querySelector("input[type='date']").focus();
      return true;
    }
    if (kind === "remove-override") {
      var override = button.closest(".override");
      if (override) {
        override.parentNode.removeChild(override);
      }
      return true;
    }
    return false;
  }

  function ready() {
    // 2. The zone picker shows the new zone at once.
    var pickers = document.querySelectorAll("select[data-autosubmit]");
    Array.prototype.forEach.call(pickers, function (select) {
      select.addEventListener("change", function () {
        if (select.form) {
          select.form.submit();
        }
      });
    });

    // The sign-up page starts in the browser's zone.
    var zone = browserZone();
    Array.prototype.forEach.call(document.querySelectorAll("select[data-detect-zone]"), function (select) {
      if (zone && select.querySelector('option[value="' + zone.replace(/"/g, "") + '"]')) {
        select.value = zone;
      }
    });

    // The hours editor.
    document.addEventListener("click", function (event) {
      var button = event.target.closest && event.target.closest("button[data-edit]");
      if (button && editHours(button)) {
        event.preventDefault();
      }
    });

    // Copying the API token.
    Array.prototype.forEach.call(document.querySelectorAll("button[data-copy]"), function (button) {
      button.addEventListener("click", function () {
        var field = document.getElementById(button.getAttribute("data-copy"));
        var status = document.getElementById("copy-status");
        if (!field) {
          return;
        }
        field.select();
        var done = function () {
          if (status) {
            status.textContent = "Copied. Keep it somewhere safe.";
          }
        };
        if (navigator.clipboard && navigator.clipboard.writeText) {
          navigator.clipboard.writeText(field.value).then(done, function () {
            if (status) {
              status.textContent = "Select the token and copy it yourself.";
            }
          });
        } else {
          try {
            document.execCommand("copy");
            done();
          } catch (e) {
            // The token is selected; the person copies it.
          }
        }
      });
    });

    // 3. Confirm before destructive forms; 5. never submit a form twice.
    Array.prototype.forEach.call(document.querySelectorAll("form"), function (form) {
      form.addEventListener("submit", function (event) {
        var question = form.getAttribute("data-confirm");
        if (question && !window.confirm(question)) {
          event.preventDefault();
          return;
        }
        if (form.getAttribute("data-submitting") === "1") {
          event.preventDefault();
          return;
        }
        if ((form.getAttribute("method") || "get").toLowerCase() === "post") {
          form.setAttribute("data-submitting", "1");
        }
      });
    });

    var bookingForm = document.getElementById("booking-form");
    if (bookingForm) {
      holds(bookingForm);
    }

    // 4. Times in the browser's zone.
    var times = document.querySelectorAll("time[data-local-range]");
    Array.prototype.forEach.call(times, function (element) {
      try {
        var start = new Date(element.getAttribute("datetime"));
        var end = new Date(element.getAttribute("data-local-range"));
        element.textContent = rangeText(start, end, browserZone() || "UTC");
      } catch (e) {
        // Leave the UTC text as it is.
      }
    });
  }

  // 6. Holding the picked time while the visitor fills in the form.
  function holds(form) {
    var status = form.querySelector("#hold-status");
    var url = status && status.getAttribute("data-hold-url");
    var tokenField = form.querySelector("#hold-token");
    var idField = form.querySelector("#hold-id");
    var expiresField = form.querySelector("#hold-expires");
    if (!url || !tokenField || !idField || !expiresField || !status || !window.fetch) {
      return;
    }
    var zoneField = form.querySelector('input[name="tz"]');
    var zone = (zoneField && zoneField.value) || browserZone() || "UTC";
    var typeField = form.querySelector('input[name="eventType"]');
    // The server's clock, not the visitor's, decides when a hold ends.
    var serverNow = Date.parse(status.getAttribute("data-now") || "");
    var skew = isNaN(serverNow) ? 0 : serverNow - Date.now();
    var checked = form.querySelector('input[name="slot"]:checked');
    var heldSlot = tokenField.value && checked ? checked.value : null;
    var attempt = 0;
    var pending = null;
    var timer = null;
    var sending = false;

    function say(text) {
      status.textContent = text;
    }
    function forget() {
      tokenField.value = "";
      idField.value = "";
      expiresField.value = "";
      heldSlot = null;
      status.removeAttribute("data-expires");
      if (timer) {
        clearInterval(timer);
        timer = null;
      }
    }
    function release(id, token) {
      if (!id || !token) {
        return;
      }
      try {
        fetch("/api/holds/" + encodeURIComponent(id), {
          method: "DELETE", headers: { "Hold-Token": token },
          credentials: "same-origin", keepalive: true
        }).catch(function () {});
      } catch (e) {
        // The hold ends by itself.
      }
    }
    function tick() {
      var expires = Date.parse(status.getAttribute("data-expires") || "");
      if (isNaN(expires)) {
        return;
      }
      var left = Math.floor((expires - (Date.now() + skew)) / 1000);
      if (left <= 0) {
        forget();
        say("Your hold on this time has ended. You can still book it if nobody else has.");
        return;
      }
      var minutes = Math.floor(left / 60);
      var seconds = left % 60;
      say("This time is held for you until " + parts(new Date(expires), zone).clock +
        " (" + minutes + ":" + (seconds < 10 ? "0" : "") + seconds + " left).");
    }
    function count(expiresAt) {
      status.setAttribute("data-expires", expiresAt);
      if (timer) {
        clearInterval(timer);
      }
      tick();
      timer = setInterval(tick, 1000);
    }
    function take(slot) {
      if (slot === heldSlot) {
        return;
      }
      release(idField.value, tokenField.value);
      forget();
      attempt += 1;
      var mine = attempt;
      var bounds = slot.split("/");
      say("Holding this time for you…");
      pending = fetch(url, {
        method: "POST",
        headers: { "Content-Type": "application/json", "Accept": "application/json" },
        credentials: "same-origin",
        body: JSON.stringify({
          startTime: bounds[0], endTime: bounds[1],
          eventType: typeField ? typeField.value : undefined
        })
      }).then(function (response) {
        return response.json().then(function (body) {
          return { ok: response.ok, body: body || {} };
        });
      }).then(function (reply) {
        if (mine !== attempt) {
          // Another time was picked meanwhile.
          if (reply.ok) {
            release(reply.body.holdId, reply.body.holdToken);
          }
          return;
        }
        if (reply.ok && reply.body.holdToken) {
          tokenField.value = reply.body.holdToken;
          idField.value = reply.body.holdId || "";
          expiresField.value = reply.body.expiresAt || "";
          heldSlot = slot;
          count(reply.body.expiresAt);
        } else if (reply.body.code === "slot_unavailable") {
          say("Sorry, someone else has just taken or is holding this time. Please pick another one.");
        } else if (reply.body.code === "holds_disabled") {
          say("");
        } else {
          say("This time could not be held for you, but you can still book it.");
        }
      }).catch(function () {
        if (mine === attempt) {
          say("This time could not be held for you, but you can still book it.");
        }
      }).then(function () {
        if (mine === attempt) {
          pending = null;
        }
      });
    }

    if (heldSlot && status.getAttribute("data-expires")) {
      count(status.getAttribute("data-expires"));
    }
    form.addEventListener("change", function (event) {
      var input = event.target;
      if (input && input.name === "slot" && input.checked) {
        take(input.value);
      }
    });
    // Booking waits (a few seconds at most) for a hold being taken, so it
    // carries the hold's token rather than colliding with the hold.
    form.addEventListener("submit", function (event) {
      sending = true;
      if (!pending) {
        return;
      }
      event.preventDefault();
      var waited = pending;
      var send = function () {
        if (waited) {
          waited = null;
          form.submit();
        }
      };
      pending.then(send, send);
      setTimeout(send, 5000);
    });
    // Leaving the page lets the time go at once.
    window.addEventListener("pagehide", function () {
      if (!sending) {
        release(idField.value, tokenField.value);
      }
    });
    window.addEventListener("pageshow", function (event) {
      if (event.persisted && !sending) {
        // Back from the browser's cache: the hold was let go on leaving.
        forget();
        say("");
      }
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", ready);
  } else {
    ready();
  }
})();
