// Field safety on the case page: the check-in form takes the position, and "I need help" is offline-first.
//
// - Pressing "I need help" stores the request (a client id, the time pressed, the case, the position if the
//   phone gives one within 5 s) in localStorage, then sends it to POST /safety/help/. Sent (201, or 200 for a
//   resend the server already has) → removed; failed (offline, server unreachable, 5xx) → kept and retried on
//   the `online` event, on page load and every 15 s. The server ignores a second copy of the same client id.
(function () {
  "use strict";
  var KEY = "doorstep-help-queue";
  var button = document.querySelector("[data-help-button]");
  var status = document.querySelector("[data-help-status]");
  var checkin = document.querySelector("form[data-safety-checkin]");

  function csrfToken() {
    var match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    if (match) { return decodeURIComponent(match[1]); }
    var input = document.querySelector("input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }
  function queue() {
    try { return JSON.parse(localStorage.getItem(KEY) || "[]"); } catch (e) { return []; }
  }
  function save(items) { localStorage.setItem(KEY, JSON.stringify(items)); }
  function say(text, ok) {
    if (!status) { return; }
    status.textContent = text;
    status.className = "small mb-2 fw-semibold " + (ok ? "text-success" : "text-danger");
  }
  function uuid() {
    if (window.crypto && crypto.randomUUID) { return crypto.randomUUID(); }
    return "10000000-1000-4000-8000-100000000000".replace(/[018]/g, function (c) {
      return (c ^ (crypto.getRandomValues(new Uint8Array(1))[0] & (15 >> (c / 4)))).toString(16);
    });
  }
  function position(done) {
    if (!navigator.geolocation) { done(null); return; }
    var finished = false;
    var timer = setTimeout(function () { if (!finished) { finished = true; done(null); } }, 5000);
    navigator.geolocation.getCurrentPosition(function (p) {
      if (finished) { return; }
      finished = true; clearTimeout(timer);
      done({ lat: p.coords.latitude.toFixed(6), lng: p.coords.longitude.toFixed(6) });
    }, function () { if (!finished) { finished = true; clearTimeout(timer); done(null); } }, { timeout: 5000 });
  }
  var sending = false;
  function flush() {
    var items = queue();
    var url = button ? button.getAttribute("data-help-url") : "/safety/help/";
    if (sending || !items.length) { return; }
    sending = true;
    var item = items[0];
    var body = new FormData();
    Object.keys(item).forEach(function (name) { if (item[name] !== null && item[name] !== undefined) { body.append(name, item[name]); } });
    fetch(url, { method: "POST", body: body, credentials: "same-origin", headers: { "X-CSRFToken": csrfToken() } })
      .then(function (response) {
        if (response.status === 201 || response.status === 200 || response.status === 400 || response.status === 403) {
          save(queue().filter(function (other) { return other.client_id !== item.client_id; }));
          return response.json().then(function (data) {
            say(data.message || data.error || JSON.stringify(data.errors || {}), response.status < 300);
          });
        }
        throw new Error("server " + response.status);
      })
      .then(function () { sending = false; flush(); })
      .catch(function () { sending = false; say(button ? button.getAttribute("data-queued-text") || "…" : "…", false); });
  }
  if (button) {
    button.addEventListener("click", function () {
      button.disabled = true;
      position(function (where) {
        var items = queue();
        items.push({
          client_id: uuid(),
          pressed_at: new Date().toISOString(),
          case: button.getAttribute("data-case") || "",
          lat: where ? where.lat : null,
          lng: where ? where.lng : null
        });
        save(items);
        button.disabled = false;
        flush();
      });
    });
  }
  if (checkin) {
    position(function (where) {
      if (!where) { return; }
      checkin.querySelector("input[name=lat]").value = where.lat;
      checkin.querySelector("input[name=lng]").value = where.lng;
    });
  }
  window.addEventListener("online", flush);
  setInterval(flush, 15000);
  flush();
})();
