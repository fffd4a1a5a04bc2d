// Today's route: "use my location" fills the start point from the browser's geolocation and
// reloads the route from there. The position goes to the query string and the session only.
(function () {
  "use strict";
  var form = document.querySelector(".js-start-form");
  if (!form) { return; }
  var button = form.querySelector(".js-use-location");
  var message = form.querySelector(".js-start-message");
  function say(key) { if (message) { message.textContent = form.getAttribute("data-" + key) || ""; } }

  button.addEventListener("click", function () {
    if (!("geolocation" in navigator)) { say("unavailable"); return; }
    say("waiting");
    button.disabled = true;
    navigator.geolocation.getCurrentPosition(
      function (position) {
        form.querySelector("[name=lat]").value = position.coords.latitude.toFixed(6);
        form.querySelector("[name=lng]").value = position.coords.longitude.toFixed(6);
        form.submit();
      },
      function (error) {
        button.disabled = false;
        say(error && error.code === 1 ? "denied" : "unavailable");
      },
      { enableHighAccuracy: false, timeout: 15000, maximumAge: 300000 }
    );
  });
})();
