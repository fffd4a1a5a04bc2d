// Form drafts: a <form data-draft-key="..."> keeps what was typed in localStorage, so a
// collector whose session ended (idle or 12-hour limit) finds the form filled in again after
// logging back in. File inputs, passwords and the CSRF token are never stored.
//
// - saved on every input/change; restored on load unless the server re-rendered the form with
//   errors (then its values win);
// - cleared once the submit succeeded: the page we arrive on came straight from the form's page
//   (the redirect after POST) and no longer shows the form; or a successful htmx submit;
// - kept when the submit bounced to the login page (the session had ended): the page after
//   logging in was reached from the login page, not from the form;
// - per signed-in user (a shared phone); all cleared on an explicit "Log out"; dropped after 7 days.
(function () {
  "use strict";
  var PREFIX = "doorstep-draft:";
  var PENDING = "doorstep-draft-pending:";
  var MAX_AGE_MS = 7 * 24 * 3600 * 1000;
  var SKIP_TYPES = { file: 1, password: 1, submit: 1, button: 1, reset: 1, image: 1 };

  function storage(kind) {
    try {
      var s = window[kind];
      var probe = PREFIX + "probe";
      s.setItem(probe, "1");
      s.removeItem(probe);
      return s;
    } catch (e) {
      return null;
    }
  }
  var local = storage("localStorage");
  var session = storage("sessionStorage");
  if (!local) { return; }

  function owner() { return document.body.getAttribute("data-user") || ""; }
  function keyFor(form) { return PREFIX + owner() + ":" + form.getAttribute("data-draft-key"); }

  function storable(el) {
    if (!el.name || el.disabled || el.name === "csrfmiddlewaretoken") { return false; }
    if (el.tagName === "INPUT" && SKIP_TYPES[(el.type || "").toLowerCase()]) { return false; }
    return el.tagName === "INPUT" || el.tagName === "SELECT" || el.tagName === "TEXTAREA";
  }

  function collect(form) {
    var fields = {};
    Array.prototype.forEach.call(form.elements, function (el) {
      if (!storable(el)) { return; }
      var type = (el.type || "").toLowerCase();
      if (type === "checkbox" || type === "radio") {
        fields[el.name] = fields[el.name] || [];
        if (el.checked) { fields[el.name].push(el.value); }
      } else if (el.tagName === "SELECT" && el.multiple) {
        fields[el.name] = Array.prototype.filter.call(el.options, function (o) { return o.selected; })
          .map(function (o) { return o.value; });
      } else {
        fields[el.name] = el.value;
      }
    });
    return fields;
  }

  function save(form) {
    try {
      local.setItem(keyFor(form), JSON.stringify({ savedAt: Date.now(), fields: collect(form) }));
    } catch (e) { /* storage full or disabled: drafts are a convenience */ }
  }

  function restore(form) {
    var raw = local.getItem(keyFor(form));
    if (!raw) { return false; }
    var draft;
    try { draft = JSON.parse(raw); } catch (e) { local.removeItem(keyFor(form)); return false; }
    if (!draft || Date.now() - (draft.savedAt || 0) > MAX_AGE_MS) { local.removeItem(keyFor(form)); return false; }
    var fields = draft.fields || {};
    // A form the server sent back with an error keeps the server's values (app.js, loaded first, says which).
    if (window.DoorstepForms && window.DoorstepForms.hasErrors(form)) { return false; }
    Array.prototype.forEach.call(form.elements, function (el) {
      if (!storable(el) || !Object.prototype.hasOwnProperty.call(fields, el.name)) { return; }
      var value = fields[el.name];
      var type = (el.type || "").toLowerCase();
      if (type === "checkbox" || type === "radio") {
        el.checked = Array.isArray(value) && value.indexOf(el.value) !== -1;
      } else if (el.tagName === "SELECT" && el.multiple) {
        Array.prototype.forEach.call(el.options, function (o) { o.selected = value.indexOf(o.value) !== -1; });
      } else if (typeof value === "string") {
        el.value = value;
      }
    });
    return true;
  }

  function forget(key) {
    local.removeItem(key);
    if (session) { session.removeItem(PENDING + key); }
  }

  function clearAll() {
    for (var i = local.length - 1; i >= 0; i--) {
      var k = local.key(i);
      if (k && k.indexOf(PREFIX) === 0) { local.removeItem(k); }
    }
  }

  function here() { return window.location.pathname + window.location.search; }

  function referrerPath() {
    try {
      var url = new URL(document.referrer);
      return url.origin === window.location.origin ? url.pathname + url.search : null;
    } catch (e) {
      return null;
    }
  }

  function settlePending(formsOnPage) {
    // A submit went out from page P. Arriving signed in, straight from P, without the form: it worked.
    if (!session || !owner()) { return; }
    var present = {};
    formsOnPage.forEach(function (f) { present[keyFor(f)] = true; });
    var from = referrerPath();
    for (var i = session.length - 1; i >= 0; i--) {
      var k = session.key(i);
      if (!k || k.indexOf(PENDING) !== 0) { continue; }
      var key = k.slice(PENDING.length);
      if (!present[key] && from !== null && from === session.getItem(k)) { forget(key); } else { session.removeItem(k); }
    }
  }

  function init() {
    var forms = Array.prototype.slice.call(document.querySelectorAll("form[data-draft-key]"));
    settlePending(forms);
    forms.forEach(function (form) {
      var restored = restore(form);
      if (restored) { form.setAttribute("data-draft-restored", "true"); }
      var handler = function (event) { if (storable(event.target)) { save(form); } };
      form.addEventListener("input", handler);
      form.addEventListener("change", handler);
      form.addEventListener("submit", function () {
        save(form);
        if (session) { session.setItem(PENDING + keyFor(form), here()); }
      });
      form.addEventListener("htmx:afterRequest", function (event) {
        if (event.detail && event.detail.successful && event.detail.elt === form) { forget(keyFor(form)); }
      });
    });
    document.querySelectorAll("form[action$='/logout/']").forEach(function (form) {
      form.addEventListener("submit", clearAll);
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
