// Screening and assignment lists: "select all on this page", the selected count, and a
// confirmation before batch actions. No inline handlers: forms opt in with classes and data-*.
(function () {
  "use strict";

  function rows(form) { return form.querySelectorAll(".js-select-row"); }

  function refresh(form) {
    var checked = form.querySelectorAll(".js-select-row:checked").length;
    form.querySelectorAll(".js-selection-count").forEach(function (el) { el.textContent = String(checked); });
    form.querySelectorAll(".js-needs-selection").forEach(function (el) { el.disabled = checked === 0; });
    var all = form.querySelector(".js-select-all");
    if (all) {
      var total = rows(form).length;
      all.checked = total > 0 && checked === total;
      all.indeterminate = checked > 0 && checked < total;
    }
  }

  document.querySelectorAll("form.js-selection").forEach(function (form) {
    form.addEventListener("change", function (event) {
      if (event.target.classList.contains("js-select-all")) {
        rows(form).forEach(function (box) { box.checked = event.target.checked; });
      }
      refresh(form);
    });
    refresh(form);
  });

  document.addEventListener("click", function (event) {
    var button = event.target.closest(".js-confirm");
    if (button && !window.confirm(button.getAttribute("data-confirm"))) {
      event.preventDefault();
    }
  });
})();
