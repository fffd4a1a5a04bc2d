// Doorstep front-end behaviour. No inline scripts: pages carry data in data-* attributes
// or json_script blocks and this file wires them up.
(function () {
  "use strict";
  document.addEventListener("change", function (event) {
    var target = event.target;
    if (target.classList && target.classList.contains("js-autosubmit") && target.form) {
      target.form.submit();
    }
  });
  // Filter forms fold on a phone so the list starts on the first screen; desktop keeps them open.
  if (window.matchMedia && window.matchMedia("(max-width: 575.98px)").matches) {
    document.querySelectorAll("details.js-fold-on-phone[open]").forEach(function (details) {
      details.open = false;
    });
  }
  // htmx sends the CSRF token with every non-GET request.
  document.body.addEventListener("htmx:configRequest", function (event) {
    var token = document.querySelector("input[name=csrfmiddlewaretoken]");
    if (token) { event.detail.headers["X-CSRFToken"] = token.value; }
  });
})();
