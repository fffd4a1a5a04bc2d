// Repayment pages: print buttons, the affordability suggestion, double-submit guard, confirmations.
(function () {
  "use strict";
  document.addEventListener("click", function (event) {
    var printButton = event.target.closest(".js-print");
    if (printButton) {
      window.print();
      return;
    }
    var apply = event.target.closest(".js-apply-suggestion");
    if (apply) {
      var form = document.querySelector(".js-plan-form");
      if (!form) { return; }
      var count = form.querySelector("[name='plan-instalment_count']");
      var deferral = form.querySelector("[name='plan-deferral_months']");
      var kind = form.querySelector("[name='plan-kind']");
      if (count && apply.dataset.count) { count.value = apply.dataset.count; }
      if (deferral) { deferral.value = apply.dataset.deferral || "0"; }
      if (kind && Number(apply.dataset.deferral || 0) > 0) { kind.value = "deferral"; }
      form.scrollIntoView({ behavior: "smooth" });
    }
  });
  // One submission per form: the idempotency key makes a second one harmless, this makes it rare.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    var confirmText = form.dataset ? form.dataset.confirm : null;
    if (confirmText && !window.confirm(confirmText)) {
      event.preventDefault();
      return;
    }
    if (form.dataset.submitted === "1") {
      event.preventDefault();
      return;
    }
    form.dataset.submitted = "1";
    var submitter = event.submitter;
    window.setTimeout(function () {
      form.querySelectorAll(".js-once").forEach(function (button) { button.disabled = true; });
      if (submitter && submitter.name) {
        // A disabled button is not submitted; keep its value.
        var hidden = document.createElement("input");
        hidden.type = "hidden"; hidden.name = submitter.name; hidden.value = submitter.value;
        form.appendChild(hidden);
      }
    }, 0);
  });
})();
