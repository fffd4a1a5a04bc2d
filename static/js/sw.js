// Doorstep service worker. Served by visits.pwa.service_worker at /sw.js (scope "/"), which
// prepends `self.DOORSTEP_SW = {...}` (precache list, version, paths, offline texts).
//
// - /static/: cache-first (precached at install; anything else cached when first fetched).
// - Pages (navigations only, GET only): network-first with the cache as fallback. Only today's
//   set is kept: /today/ and the case pages and visit forms it asks for ("cache-pages" message);
//   a page already kept is refreshed whenever it is loaded online.
// - The cache key is the URL only, so the kept pages are dropped when the login page is served
//   (a log-out, an ended session or another user) and on a "drop-pages" message.
"use strict";

const CONFIG = self.DOORSTEP_SW || { version: "dev", precache: [], never: [] };
const STATIC_CACHE = "doorstep-static-" + CONFIG.version;
const PAGES_CACHE = "doorstep-pages";

self.addEventListener("install", (event) => {
  event.waitUntil(
    caches
      .open(STATIC_CACHE)
      // One missing file must not stop the others (cache.addAll is all or nothing).
      .then((cache) => Promise.all(CONFIG.precache.map((url) => cache.add(url).catch(() => null))))
      .then(() => self.skipWaiting())
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches
      .keys()
      .then((keys) =>
        Promise.all(
          keys
            .filter((key) => key.startsWith("doorstep-static-") && key !== STATIC_CACHE)
            .map((key) => caches.delete(key))
        )
      )
      .then(() => self.clients.claim())
  );
});

function dropPages() {
  return caches.delete(PAGES_CACHE);
}

function escapeHtml(text) {
  return String(text || "").replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]);
}

function offlinePage() {
  const body =
    '<!doctype html><html><head><meta charset="utf-8">' +
    '<meta name="viewport" content="width=device-width, initial-scale=1">' +
    "<title>" + escapeHtml(CONFIG.offlineTitle) + "</title></head>" +
    '<body style="font-family:system-ui,sans-serif;padding:1rem">' +
    "<h1>" + escapeHtml(CONFIG.offlineTitle) + "</h1><p>" + escapeHtml(CONFIG.offlineText) + "</p>" +
    '<p><a href="' + escapeHtml(CONFIG.todayPath) + '">' + escapeHtml(CONFIG.todayLabel) + "</a></p></body></html>";
  return new Response(body, { status: 503, headers: { "Content-Type": "text/html; charset=utf-8" } });
}

async function cacheFirst(request) {
  const cache = await caches.open(STATIC_CACHE);
  const hit = await cache.match(request, { ignoreVary: true });
  if (hit) {
    return hit;
  }
  const response = await fetch(request);
  if (response.ok && response.type === "basic") {
    await cache.put(request, response.clone());
  }
  return response;
}

async function networkFirst(request, url) {
  const cache = await caches.open(PAGES_CACHE);
  try {
    const response = await fetch(request);
    if (response.ok && response.type === "basic" && !response.redirected) {
      const kept = await cache.match(request, { ignoreVary: true });
      if (kept || url.pathname === CONFIG.todayPath) {
        await cache.put(request, response.clone());
      }
    }
    return response;
  } catch (error) {
    let hit = await cache.match(request, { ignoreVary: true });
    if (!hit && url.pathname === CONFIG.todayPath) {
      hit = await cache.match(CONFIG.todayPath, { ignoreVary: true, ignoreSearch: true });
    }
    return hit || offlinePage();
  }
}

function never(url) {
  return (CONFIG.never || []).some((prefix) => url.pathname.startsWith(prefix));
}

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") {
    return;
  }
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) {
    return;
  }
  if (url.pathname.startsWith(CONFIG.staticPrefix || "/static/")) {
    event.respondWith(cacheFirst(request));
    return;
  }
  if (request.mode !== "navigate") {
    return;
  }
  if (url.pathname === CONFIG.loginPath) {
    // Signed out or someone else signing in: no one's pages stay on this device.
    event.waitUntil(dropPages());
    return;
  }
  if (never(url)) {
    return;
  }
  event.respondWith(networkFirst(request, url));
});

async function cachePages(urls) {
  const cache = await caches.open(PAGES_CACHE);
  let saved = 0;
  for (const url of urls) {
    try {
      const response = await fetch(url, { credentials: "same-origin", redirect: "follow" });
      if (response.ok && !response.redirected) {
        await cache.put(url, response);
        saved += 1;
      }
    } catch (error) {
      // Offline or the server is down: what was kept before stays.
    }
  }
  return saved;
}

self.addEventListener("message", (event) => {
  const data = event.data || {};
  const reply = (message) => {
    if (event.source && event.source.postMessage) {
      event.source.postMessage(message);
    }
  };
  if (data.type === "cache-pages" && Array.isArray(data.urls)) {
    const urls = data.urls.filter((u) => typeof u === "string" && u.startsWith("/") && !never(new URL(u, self.location.origin)));
    event.waitUntil(cachePages(urls).then((saved) => reply({ type: "pages-cached", saved: saved, total: urls.length })));
  } else if (data.type === "drop-pages") {
    event.waitUntil(dropPages().then(() => reply({ type: "pages-dropped" })));
  }
});
