// Visit log form: check-in with the browser's geolocation and the third-party rule.
// A denied or unavailable position is recorded as a status, never an error: the visit still saves.
(function () {
  "use strict";
  var form = document.querySelector(".js-visit-form");
  if (!form) { return; }

  function field(name) { return form.querySelector("[name='" + name + "']"); }
  function pad(n) { return (n < 10 ? "0" : "") + n; }
  function localInputValue(date) {
    return date.getFullYear() + "-" + pad(date.getMonth() + 1) + "-" + pad(date.getDate()) +
      "T" + pad(date.getHours()) + ":" + pad(date.getMinutes());
  }

  var message = form.querySelector(".js-geo-message");
  function say(text) { if (message) { message.textContent = text; } }

  function setPosition(status, coords) {
    field("geo_status").value = status;
    field("lat").value = coords ? coords.latitude.toFixed(6) : "";
    field("lng").value = coords ? coords.longitude.toFixed(6) : "";
    field("accuracy_m").value = coords && coords.accuracy != null ? Math.min(coords.accuracy, 99999999).toFixed(1) : "";
  }

  function checkIn() {
    field("checked_in_at").value = localInputValue(new Date());
    if (!("geolocation" in navigator)) {
      setPosition("unavailable", null);
      say(form.dataset.geoUnavailable);
      return;
    }
    say(form.dataset.geoWaiting);
    navigator.geolocation.getCurrentPosition(
      function (position) {
        setPosition("ok", position.coords);
        say((form.dataset.geoOk || "").replace("%s", Math.round(position.coords.accuracy)));
      },
      function (error) {
        var denied = error && error.code === 1;
        setPosition(denied ? "denied" : "unavailable", null);
        say(denied ? form.dataset.geoDenied : form.dataset.geoUnavailable);
      },
      { enableHighAccuracy: true, timeout: 15000, maximumAge: 60000 }
    );
  }

  var button = form.querySelector(".js-checkin");
  if (button) {
    button.addEventListener("click", checkIn);
    button.disabled = false;  // rendered disabled: a tap before this script ran would do nothing
  }

  // With only a third party met, the debt is never discussed: hide and clear the debt fields.
  var debt = form.querySelector(".js-debt-fields");
  var rule = form.querySelector(".js-third-party-rule");
  function applyParty() {
    var checked = form.querySelector("[name='met']:checked");
    var thirdParty = checked && checked.value === "third_party";
    if (rule) { rule.classList.toggle("d-none", !thirdParty); }
    if (!debt) { return; }
    debt.classList.toggle("d-none", !!thirdParty);
    if (thirdParty) {
      debt.querySelectorAll("input, select, textarea").forEach(function (input) { input.value = ""; });
    }
  }
  form.addEventListener("change", function (event) {
    if (event.target.name === "met") { applyParty(); }
  });
  applyParty();
})();
