// Doorstep front-end behaviour. No inline scripts: pages carry data in data-* attributes
// or json_script blocks and this file wires them up.
(function () {
  "use strict";
  // What marks a form the server sent back with an error: field errors (crispy's or Django's own) or a
  // refusal of the whole form (crispy's non-field error block). drafts.js asks the same question.
  var ERROR_MARKS = ".is-invalid, .invalid-feedback, .errorlist, .alert-danger";
  window.DoorstepForms = { hasErrors: function (root) { return root.querySelector(ERROR_MARKS) !== null; } };
  document.addEventListener("change", function (event) {
    var target = event.target;
    if (target.classList && target.classList.contains("js-autosubmit") && target.form) {
      target.form.submit();
    }
  });
  // Filter forms fold on a phone so the list starts on the first screen; desktop keeps them open. A form
  // the server sent back with an error stays open, so the error is seen.
  if (window.matchMedia && window.matchMedia("(max-width: 575.98px)").matches) {
    document.querySelectorAll("details.js-fold-on-phone[open]").forEach(function (details) {
      if (!window.DoorstepForms.hasErrors(details)) {
        details.open = false;
      }
    });
  }
  // Live rule checks: a form holding a [data-rule-hints] element (visits/_rule_attrs.html, values from the
  // server's rule pack and settings) warns as it is filled that the server would refuse the submit:
  // a time in the quiet hours (borrower's time zone) without consent, an implausibly long visit.
  // The server still decides; these only say it before the collector presses Save.
  function wallClock(value) {
    var m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})/.exec(value || "");
    return m ? [+m[1], +m[2] - 1, +m[3], +m[4], +m[5]] : null;
  }
  function zoneParts(instant, zone) {
    var parts = {};
    new Intl.DateTimeFormat("en-US", {
      timeZone: zone, hourCycle: "h23", year: "numeric", month: "2-digit", day: "2-digit",
      hour: "2-digit", minute: "2-digit"
    }).formatToParts(new Date(instant)).forEach(function (p) { parts[p.type] = +p.value; });
    return parts;
  }
  // The instant a "YYYY-MM-DDTHH:MM" typed in ``zone`` stands for (or now when the field is empty).
  function instantOf(value, zone) {
    var w = wallClock(value);
    if (!w) { return value ? null : Date.now(); }
    var guess = Date.UTC(w[0], w[1], w[2], w[3], w[4]);
    try {
      var p = zoneParts(guess, zone);
      return guess - (Date.UTC(p.year, p.month - 1, p.day, p.hour % 24, p.minute) - guess);
    } catch (e) {
      return null;  // an unknown time zone: no warning rather than a wrong one
    }
  }
  function minutesOf(text) {
    var m = /^(\d{1,2}):(\d{2})/.exec(text || "");
    return m ? +m[1] * 60 + +m[2] : null;
  }
  function pad2(n) { return (n < 10 ? "0" : "") + n; }
  function fill(template, values) {
    return (template || "").replace(/\{(\w+)\}/g, function (all, key) {
      return Object.prototype.hasOwnProperty.call(values, key) ? values[key] : all;
    });
  }

  function quietProblem(form, d) {
    var input = form.querySelector("[name='" + d.ruleQuietField + "']");
    var consent = d.ruleConsentField && form.querySelector("[name='" + d.ruleConsentField + "']");
    if (!input || d.ruleConsent === "true" || (consent && consent.checked)) { return ""; }
    var instant = instantOf(input.value, d.ruleInputTz);
    var start = minutesOf(d.ruleQuietStart), end = minutesOf(d.ruleQuietEnd);
    if (instant === null || start === null || end === null || start === end) { return ""; }
    var p;
    try { p = zoneParts(instant, d.ruleBorrowerTz); } catch (e) { return ""; }
    var local = (p.hour % 24) * 60 + p.minute;
    var quiet = start < end ? (local >= start && local < end) : (local >= start || local < end);
    return quiet ? fill(d.ruleQuietText, { time: pad2(p.hour % 24) + ":" + pad2(p.minute) }) : "";
  }

  function durationProblem(form, d) {
    if (!d.ruleDurationFrom) { return ""; }
    var from = form.querySelector("[name='" + d.ruleDurationFrom + "']");
    var to = form.querySelector("[name='" + d.ruleDurationTo + "']");
    var limit = parseInt(d.ruleMaxMinutes, 10);
    if (!from || !from.value || !to || isNaN(limit)) { return ""; }
    var start = instantOf(from.value, d.ruleInputTz), end = instantOf(to.value, d.ruleInputTz);
    if (start === null || end === null) { return ""; }
    var minutes = Math.floor((end - start) / 60000);
    if (minutes <= limit) { return ""; }
    return fill(d.ruleDurationText, { hours: Math.floor(minutes / 60), minutes: minutes % 60 });
  }

  // The attempt cap counts unanswered calls per number (or per debt): the server says how many each
  // of the borrower's numbers has used; a typed "other number" is judged by the server alone.
  function attemptCapProblem(form, d) {
    if (!d.ruleAttemptsMax) { return ""; }
    var channel = form.querySelector("[name='channel']");
    var phone = form.querySelector("[name='phone']");
    var other = form.querySelector("[name='other_number']");
    if (!channel || channel.value !== "call" || !phone || !phone.value || (other && other.value.trim())) { return ""; }
    var used = {};
    (d.ruleAttemptsUsed || "").trim().split(/\s+/).forEach(function (pair) {
      var parts = pair.split(":");
      if (parts.length === 2) { used[parts[0]] = parseInt(parts[1], 10); }
    });
    var count = used[phone.value];
    return count >= parseInt(d.ruleAttemptsMax, 10) ? fill(d.ruleAttemptsText, { used: count }) : "";
  }

  function showWarning(form, fieldName, key, text) {
    var input = form.querySelector("[name='" + fieldName + "']");
    if (!input) { return; }
    var id = "rule-warning-" + key;
    var box = document.getElementById(id);
    if (!box) {
      box = document.createElement("div");
      box.id = id;
      box.className = "alert alert-warning small py-2 d-none";
      box.setAttribute("role", "status");
      box.setAttribute("data-testid", id);
      var anchor = document.getElementById("div_id_" + fieldName) || input;
      anchor.parentNode.insertBefore(box, anchor.nextSibling);
      var described = (input.getAttribute("aria-describedby") || "").split(" ").filter(Boolean);
      described.push(id);
      input.setAttribute("aria-describedby", described.join(" "));
    }
    box.textContent = text;
    box.classList.toggle("d-none", !text);
  }

  function checkRules(form, d) {
    showWarning(form, d.ruleQuietField, "quiet-hours", quietProblem(form, d));
    if (d.ruleDurationTo) { showWarning(form, d.ruleDurationTo, "duration", durationProblem(form, d)); }
    if (d.ruleAttemptsMax) { showWarning(form, "phone", "attempt-cap", attemptCapProblem(form, d)); }
  }

  document.querySelectorAll("form [data-rule-hints]").forEach(function (hints) {
    var form = hints.closest("form");
    var run = function () { checkRules(form, hints.dataset); };
    form.addEventListener("input", run);
    form.addEventListener("change", run);
    // The check-in button and the draft restore set values without an input event.
    form.addEventListener("click", function () { window.setTimeout(run, 0); });
    window.setTimeout(run, 0);
    window.addEventListener("load", run);
    // An empty check-out means "now": a form left open grows longer while it waits.
    window.setInterval(run, 60000);
  });
  // The tab bar's "More" opens the menu at the top of the page: bring it into view.
  document.querySelectorAll(".js-tab-more").forEach(function (button) {
    button.addEventListener("click", function () { window.scrollTo(0, 0); });
  });
  // A table wider than the screen scrolls sideways in its .table-responsive box: that box takes the
  // keyboard focus, so it can be scrolled without a mouse (WCAG 2.1.1; axe scrollable-region-focusable).
  function focusableScrollers(root) {
    (root || document).querySelectorAll(".table-responsive").forEach(function (box) {
      if (box.scrollWidth > box.clientWidth && !box.hasAttribute("tabindex")) {
        box.setAttribute("tabindex", "0");
      }
    });
  }
  focusableScrollers(document);
  window.addEventListener("load", function () { focusableScrollers(document); });
  document.body.addEventListener("htmx:afterSwap", function (event) { focusableScrollers(event.target); });
  // htmx sends the CSRF token with every non-GET request.
  document.body.addEventListener("htmx:configRequest", function (event) {
    var token = document.querySelector("input[name=csrfmiddlewaretoken]");
    if (token) { event.detail.headers["X-CSRFToken"] = token.value; }
  });
})();
