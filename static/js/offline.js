// Offline capture: the service worker's registration, the network badge and the visit outbox.
//
// - A visit form (<form data-offline-outbox>) submitted while the device is offline, or when the
//   server cannot be reached, is stored in IndexedDB (fields, photo Blobs, idempotency key) and
//   shows "saved on this device". Reached, the form submits normally.
// - The outbox is sent to POST /sync/visits/ on page load, on the `online` event and every 30 s
//   while something waits: created/duplicate → removed; conflict (409) → kept and shown with the
//   reason until the collector discards it; invalid (400) → kept, marked failed, with the errors.
// - Items belong to the signed-in user (data-user) and are only sent under that user's session, or
//   under that user's API tokens: while signed in, the page gets an access token (15 min) and a refresh
//   token (7 days) for the outbox, so a session that ends mid-day does not strand the items. A 401 from
//   the sync endpoint (access token expired) refreshes the pair once and sends the same item again (the
//   idempotency key makes a resend harmless); a refused refresh drops the tokens and asks for a login.
// - The badge in the navbar shows online/offline and how many items wait.
(function () {
  "use strict";
  var user = document.body.getAttribute("data-user") || "";
  var badge = document.querySelector(".js-net-status");
  var panel = document.querySelector(".js-outbox");
  var DB_NAME = "doorstep-outbox";
  var ITEMS = "items";
  var USED = "used-keys";
  var USED_MAX_AGE_MS = 7 * 24 * 3600 * 1000;
  var syncing = false;

  // --- IndexedDB -------------------------------------------------------------------------------
  var dbPromise = null;
  function db() {
    if (!dbPromise) {
      dbPromise = new Promise(function (resolve, reject) {
        if (!window.indexedDB) { reject(new Error("no IndexedDB")); return; }
        var request = indexedDB.open(DB_NAME, 1);
        request.onupgradeneeded = function () {
          request.result.createObjectStore(ITEMS, { keyPath: "key" });
          request.result.createObjectStore(USED, { keyPath: "key" });
        };
        request.onsuccess = function () { resolve(request.result); };
        request.onerror = function () { reject(request.error); };
      });
    }
    return dbPromise;
  }
  function run(storeName, mode, action) {
    return db().then(function (database) {
      return new Promise(function (resolve, reject) {
        var tx = database.transaction(storeName, mode);
        var request = action(tx.objectStore(storeName));
        tx.oncomplete = function () { resolve(request ? request.result : undefined); };
        tx.onerror = function () { reject(tx.error); };
        tx.onabort = function () { reject(tx.error); };
      });
    });
  }
  function all(store) { return run(store, "readonly", function (s) { return s.getAll(); }); }
  function put(store, value) { return run(store, "readwrite", function (s) { return s.put(value); }); }
  function remove(store, key) { return run(store, "readwrite", function (s) { return s.delete(key); }); }
  function mine() {
    return all(ITEMS).then(function (items) {
      return items.filter(function (i) { return i.user === user; })
        .sort(function (a, b) { return a.createdAt - b.createdAt; });
    });
  }

  // --- helpers ---------------------------------------------------------------------------------
  function uuid4() {
    if (window.crypto && crypto.randomUUID) { return crypto.randomUUID(); }
    var b = crypto.getRandomValues(new Uint8Array(16));
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    var h = Array.prototype.map.call(b, function (x) { return (x + 0x100).toString(16).slice(1); }).join("");
    return h.slice(0, 8) + "-" + h.slice(8, 12) + "-" + h.slice(12, 16) + "-" + h.slice(16, 20) + "-" + h.slice(20);
  }
  function pad(n) { return (n < 10 ? "0" : "") + n; }
  function localInput(date) {
    return date.getFullYear() + "-" + pad(date.getMonth() + 1) + "-" + pad(date.getDate()) +
      "T" + pad(date.getHours()) + ":" + pad(date.getMinutes());
  }
  function csrfToken() {
    var match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    if (match) { return decodeURIComponent(match[1]); }
    var input = document.querySelector("input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }
  function text(name) { return (panel && panel.getAttribute("data-text-" + name)) || ""; }

  // --- API tokens for the outbox -----------------------------------------------------------------
  var TOKENS_KEY = "doorstep-outbox-tokens:" + user;
  var refreshing = null;
  function tokens() {
    try { return JSON.parse(localStorage.getItem(TOKENS_KEY) || "null"); } catch (e) { return null; }
  }
  function keepTokens(pair) {
    try {
      if (pair) { localStorage.setItem(TOKENS_KEY, JSON.stringify({ access: pair.access, refresh: pair.refresh })); }
      else { localStorage.removeItem(TOKENS_KEY); }
    } catch (e) { /* private mode: the session alone is used */ }
  }
  function postJson(url, body, headers) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      redirect: "manual",
      headers: Object.assign({ "Content-Type": "application/json", "Accept": "application/json" }, headers || {}),
      body: JSON.stringify(body)
    });
  }
  // While the session is alive: a pair for this device, unless one is kept already.
  function ensureTokens() {
    var url = panel && panel.getAttribute("data-token-url");
    if (!url || tokens()) { return Promise.resolve(); }
    return postJson(url, {}, { "X-CSRFToken": csrfToken() }).then(function (response) {
      if (response.status !== 200) { return; }
      return response.json().then(keepTokens);
    }, function () {});
  }
  // One refresh at a time: a refresh token works once, and a second use would revoke the sign-in.
  function refreshTokens() {
    if (refreshing) { return refreshing; }
    var kept = tokens();
    var url = panel && panel.getAttribute("data-refresh-url");
    if (!kept || !url) { return Promise.resolve(false); }
    refreshing = postJson(url, { refresh: kept.refresh }).then(function (response) {
      if (response.status !== 200) { keepTokens(null); return false; }
      return response.json().then(function (pair) { keepTokens(pair); return true; });
    }, function () { return false; }).then(function (ok) { refreshing = null; return ok; });
    return refreshing;
  }

  // --- badge and panel -------------------------------------------------------------------------
  function waiting(items) {
    return items.filter(function (i) { return i.status !== "conflict"; }).length;
  }

  function renderBadge(items) {
    if (!badge) { return; }
    var online = navigator.onLine;
    var count = waiting(items);
    var label = online ? badge.getAttribute("data-text-online") : badge.getAttribute("data-text-offline");
    if (count) { label += " · " + (badge.getAttribute("data-text-waiting") || "%s").replace("%s", count); }
    badge.textContent = label;
    badge.setAttribute("data-online", online ? "true" : "false");
    badge.setAttribute("data-waiting", String(count));
    badge.classList.remove("text-bg-secondary", "text-bg-success", "text-bg-danger", "text-bg-warning");
    badge.classList.add(!online ? "text-bg-danger" : count ? "text-bg-warning" : "text-bg-success");
  }

  function renderItem(template, item) {
    var node = template.content.firstElementChild.cloneNode(true);
    node.setAttribute("data-key", item.key);
    node.setAttribute("data-status", item.status);
    var link = node.querySelector(".js-item-case");
    link.textContent = item.caseLabel;
    link.href = item.caseUrl || "#";
    node.querySelector(".js-item-when").textContent = " · " + new Date(item.createdAt).toLocaleString(document.documentElement.lang || undefined);
    var status = node.querySelector(".js-item-status");
    status.textContent = text(item.status === "syncing" ? "pending" : item.status) +
      (item.message ? " " + item.message : "");
    var errors = node.querySelector(".js-item-errors");
    Object.keys(item.errors || {}).forEach(function (field) {
      (item.errors[field] || []).forEach(function (message) {
        var li = document.createElement("li");
        li.textContent = (field === "__all__" ? "" : field + ": ") + message;
        errors.appendChild(li);
      });
    });
    if (item.conflictUrl) {
      var conflict = node.querySelector(".js-item-conflict");
      conflict.href = item.conflictUrl;
      conflict.classList.remove("d-none");
    }
    if (item.status === "failed") { node.querySelector(".js-item-retry").classList.remove("d-none"); }
    if (item.status === "failed" || item.status === "conflict") {
      node.querySelector(".js-item-discard").classList.remove("d-none");
    }
    return node;
  }

  function renderPanel(items) {
    if (!panel) { return; }
    var list = panel.querySelector(".js-outbox-items");
    var template = panel.querySelector("template.js-outbox-item");
    list.textContent = "";
    items.forEach(function (item) { list.appendChild(renderItem(template, item)); });
    panel.classList.toggle("d-none", items.length === 0);
    panel.setAttribute("data-count", String(items.length));
  }

  function refresh() {
    if (!user) { return Promise.resolve([]); }
    return mine().then(function (items) {
      renderBadge(items);
      renderPanel(items);
      return items;
    }).catch(function () { renderBadge([]); return []; });
  }

  function showLogin(show) {
    var note = panel && panel.querySelector(".js-outbox-login");
    if (!note) { return; }
    note.textContent = text("login");
    note.classList.toggle("d-none", !show);
  }

  // --- sync --------------------------------------------------------------------------------------
  function formDataOf(item) {
    var data = new FormData();
    item.fields.forEach(function (pair) { data.append(pair[0], pair[1]); });
    data.append("case", item.caseId);
    item.files.forEach(function (f) { data.append(f.name, new File([f.blob], f.filename || "photo", { type: f.type })); });
    return data;
  }

  // Resolves true when syncing must stop for now (network gone, signed out, server failing).
  function send(item, retried) {
    var url = panel.getAttribute("data-sync-url");
    var headers = { "X-CSRFToken": csrfToken(), "Accept": "application/json" };
    var kept = tokens();
    if (kept) { headers.Authorization = "Bearer " + kept.access; }
    return fetch(url, {
      method: "POST",
      body: formDataOf(item),
      credentials: "same-origin",
      redirect: "manual",
      headers: headers
    }).then(function (response) {
      var json = (response.headers.get("Content-Type") || "").indexOf("application/json") === 0;
      if (response.status === 401 && kept && !retried) {
        return refreshTokens().then(function (ok) {
          if (ok) { return send(item, true); }
          showLogin(true);
          return true;
        });
      }
      if (response.type === "opaqueredirect" || response.status === 401 || (response.status === 403 && !json)) {
        showLogin(true);
        return true;
      }
      if (!json) { return true; }
      return response.json().then(function (body) {
        if (response.status === 200 || response.status === 201) { return remove(ITEMS, item.key).then(function () { return false; }); }
        if (response.status === 409) {
          item.status = "conflict";
          item.message = body.message || "";
          item.conflictUrl = body.url || "";
          item.discardUrl = body.discard_url || "";
        } else if (response.status === 400 || response.status === 404) {
          item.status = "failed";
          item.message = body.message || body.detail || "";
          item.errors = body.errors || {};
        } else {
          return true;
        }
        return put(ITEMS, item).then(function () { return false; });
      });
    }, function () { return true; });
  }

  function syncAll() {
    if (syncing || !navigator.onLine || !user || !panel) { return Promise.resolve(); }
    syncing = true;
    showLogin(false);
    return ensureTokens().then(mine).then(function (items) {
      var queue = items.filter(function (i) { return i.status === "pending"; });
      var chain = Promise.resolve(false);
      queue.forEach(function (item) {
        chain = chain.then(function (stop) { return stop ? true : send(item); });
      });
      return chain;
    }).catch(function () { return true; }).then(function () {
      syncing = false;
      return refresh();
    });
  }

  // --- capture -----------------------------------------------------------------------------------
  function markUsed(key) { return put(USED, { key: key, at: Date.now() }); }

  function queue(form) {
    var data = new FormData(form);
    var fields = [];
    var files = [];
    var reads = [];
    data.forEach(function (value, name) {
      if (name === "csrfmiddlewaretoken") { return; }
      if (typeof value === "string") { fields.push([name, value]); return; }
      if (!value || !value.size) { return; }
      // A copy of the bytes: the picked file may be gone from the phone by the time we sync.
      reads.push(value.arrayBuffer().then(function (buffer) {
        files.push({ name: name, blob: new Blob([buffer], { type: value.type }), filename: value.name, type: value.type });
      }));
    });
    var checkIn = data.get("checked_in_at") || "";
    var checkOut = data.get("checked_out_at") || "";
    if (!checkOut) {
      // The server would stamp the sync time; the visit ended now, on this device.
      var now = localInput(new Date());
      fields = fields.filter(function (pair) { return pair[0] !== "checked_out_at"; });
      fields.push(["checked_out_at", now > checkIn ? now : checkIn]);
    }
    var key = data.get("idempotency_key");
    return Promise.all(reads).then(function () {
      var item = {
        key: key,
        user: user,
        caseId: form.getAttribute("data-case"),
        caseLabel: form.getAttribute("data-case-label") || "",
        caseUrl: form.getAttribute("data-case-url") || "",
        fields: fields,
        files: files,
        status: "pending",
        message: "",
        errors: {},
        createdAt: Date.now()
      };
      return put(ITEMS, item).then(function () { return markUsed(key); });
    });
  }

  function queued(form) {
    // Tell drafts.js the submit succeeded, so the typed draft does not come back.
    form.dispatchEvent(new CustomEvent("htmx:afterRequest", { detail: { successful: true, elt: form } }));
    var note = document.createElement("div");
    note.className = "alert alert-success js-queued";
    note.setAttribute("role", "status");
    note.textContent = form.getAttribute("data-queued-text");
    form.parentNode.insertBefore(note, form);
    form.classList.add("d-none");
    // Should the form be used again (a second visit), it needs a key of its own.
    var keyInput = form.querySelector("[name=idempotency_key]");
    if (keyInput) { keyInput.value = uuid4(); }
    return refresh();
  }

  function reachable() {
    // The form submits normally when the server answers; otherwise it goes to the outbox.
    var link = document.querySelector("link[rel=manifest]");
    return fetch(link ? link.getAttribute("href") : "/manifest.webmanifest", { cache: "no-store", credentials: "same-origin" })
      .then(function (response) { return response.ok; }, function () { return false; });
  }

  function setupForm(form) {
    var busy = false;
    var keyInput = form.querySelector("[name=idempotency_key]");
    // A form kept for offline use carries the key it was rendered with: once used, take a new one.
    if (keyInput && window.indexedDB) {
      all(USED).then(function (used) {
        var now = Date.now();
        used.forEach(function (u) { if (now - u.at > USED_MAX_AGE_MS) { remove(USED, u.key); } });
        if (used.some(function (u) { return u.key === keyInput.value; })) { keyInput.value = uuid4(); }
      }).catch(function () {});
    }
    form.addEventListener("submit", function (event) {
      if (!window.indexedDB) { return; }
      event.preventDefault();
      if (busy) { return; }
      busy = true;
      var button = form.querySelector("[type=submit]");
      if (button) { button.disabled = true; }
      var check = navigator.onLine ? reachable() : Promise.resolve(false);
      check.then(function (online) {
        if (online) {
          if (keyInput) { markUsed(keyInput.value); }
          HTMLFormElement.prototype.submit.call(form);
          return null;
        }
        return queue(form).then(function () { return queued(form); });
      }).catch(function () {
        busy = false;
        if (button) { button.disabled = false; }
      });
    });
  }

  // --- service worker ----------------------------------------------------------------------------
  function setupWorker() {
    if (!("serviceWorker" in navigator) || !badge) { return; }
    var ready = document.querySelector(".js-offline-ready");
    navigator.serviceWorker.addEventListener("message", function (event) {
      var data = event.data || {};
      if (data.type === "pages-cached" && ready) {
        ready.textContent = (ready.getAttribute("data-ready-text") || "%s").replace("%s", data.saved);
        ready.setAttribute("data-offline-ready", String(data.saved));
      }
    });
    navigator.serviceWorker.register(badge.getAttribute("data-sw-url") || "/sw.js", { scope: "/" }).catch(function () {
      if (ready) { ready.textContent = ready.getAttribute("data-unsupported-text"); }
    });
    var urls = document.getElementById("offline-urls");
    if (!urls) { return; }
    navigator.serviceWorker.ready.then(function (registration) {
      var list = JSON.parse(urls.textContent);
      if (navigator.onLine && registration.active) {
        registration.active.postMessage({ type: "cache-pages", urls: list });
      }
    });
  }

  function dropPagesOnLogout() {
    document.querySelectorAll("form[action$='/logout/']").forEach(function (form) {
      form.addEventListener("submit", function () {
        if (navigator.serviceWorker && navigator.serviceWorker.controller) {
          navigator.serviceWorker.controller.postMessage({ type: "drop-pages" });
        }
        if (window.caches) { caches.delete("doorstep-pages"); }
        // Signing out signs the device's API tokens out too (keepalive: the request outlives the page).
        var kept = tokens();
        var url = panel && panel.getAttribute("data-revoke-url");
        if (kept && url) {
          fetch(url, {
            method: "POST",
            keepalive: true,
            credentials: "same-origin",
            headers: { "Content-Type": "application/json", "Accept": "application/json" },
            body: JSON.stringify({ token: kept.refresh })
          }).catch(function () {});
        }
        keepTokens(null);
      });
    });
  }

  // --- wiring ------------------------------------------------------------------------------------
  function init() {
    setupWorker();
    dropPagesOnLogout();
    if (!user) { return; }
    document.querySelectorAll("form[data-offline-outbox]").forEach(setupForm);
    window.addEventListener("online", function () { refresh(); syncAll(); });
    window.addEventListener("offline", refresh);
    if (panel) {
      panel.querySelector(".js-outbox-sync").addEventListener("click", syncAll);
      panel.addEventListener("click", function (event) {
        var button = event.target.closest(".js-item-retry, .js-item-discard");
        if (!button) { return; }
        var key = button.closest("[data-outbox-item]").getAttribute("data-key");
        mine().then(function (items) {
          var item = items.filter(function (i) { return i.key === key; })[0];
          if (!item) { return null; }
          if (button.classList.contains("js-item-retry")) {
            item.status = "pending";
            item.message = "";
            item.errors = {};
            return put(ITEMS, item).then(syncAll);
          }
          if (!window.confirm(text("discard-confirm"))) { return null; }
          var told = item.discardUrl && navigator.onLine
            ? fetch(item.discardUrl, {
              method: "POST",
              credentials: "same-origin",
              headers: { "X-CSRFToken": csrfToken(), "Accept": "application/json" }
            }).catch(function () {})
            : Promise.resolve();
          return told.then(function () { return remove(ITEMS, key); }).then(refresh);
        });
      });
    }
    refresh().then(function (items) {
      if (items.some(function (i) { return i.status === "pending"; })) { syncAll(); }
    });
    window.setInterval(function () {
      mine().then(function (items) {
        if (items.some(function (i) { return i.status === "pending"; })) { syncAll(); }
      }).catch(function () {});
    }, 30000);
  }

  window.DoorstepOutbox = { sync: syncAll, items: mine, refresh: refresh };

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
