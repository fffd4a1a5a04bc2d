// Case page: ask before closing a case (no inline handlers; the message comes from data-confirm).
(function () {
  "use strict";
  document.querySelectorAll("form.js-confirm").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      if (!window.confirm(form.dataset.confirm || "?")) { event.preventDefault(); }
    });
  });
})();
