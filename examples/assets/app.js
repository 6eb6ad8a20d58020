// The pages' only script. Everything works without it; it adds:
// - the visitor's time zone on a booking page reached without ?tz=,
// - submitting the time-zone picker when it changes,
// - a confirmation before an organizer cancels a booking,
// - times in the browser's own zone on the attendee's cancel page,
// - no double submission of a form.
(function () {
  "use strict";

  document.documentElement.className += " js";

  // 1. Time-zone detection: runs in <head>, before the page is drawn, and
  // only when the server asked for it (a booking page without ?tz=).
  if (document.querySelector('meta[name="detect-time-zone"]')) {
    var zone = null;
    try {
      zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
    } catch (e) {
      zone = null;
    }
    var params = new URLSearchParams(window.location.search);
    if (zone && !params.has("tz")) {
      params.set("tz", zone);
      window.location.replace(
        window.location.pathname + "?" + params.toString() + window.location.hash
      );
      return;
    }
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

    // 4. Times in the browser's zone.
    var times = document.querySelectorAll("time[data-local-range]");
    Array.prototype.forEach.call(times, function (element) {
      try {
        var start = new Date(element.getAttribute("datetime"));
        var end = new Date(element.getAttribute("data-local-range"));
        var day = new Intl.DateTimeFormat(undefined, {
          weekday: "long", day: "numeric", month: "long", year: "numeric"
        });
        var clock = new Intl.DateTimeFormat(undefined, {
          hour: "2-digit", minute: "2-digit", hourCycle: "h23"
        });
        var zoneName = Intl.DateTimeFormat().resolvedOptions().timeZone;
        element.textContent = day.format(start) + ", " + clock.format(start) +
          " – " + clock.format(end) + " (" + zoneName + ")";
      } catch (e) {
        // Leave the UTC text as it is.
      }
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", ready);
  } else {
    ready();
  }
})();
