// Service worker of the teller's tablet: keeps the page shell so that a reload while the hall's
// Wi-Fi is down still opens the tablet (the unsent papers live in localStorage). Network first
// (a deploy is seen at once), cache as the fallback; the API is never cached.
"use strict";
const CACHE = "jipiao-tablet-v2";
const SHELL = [
  "/tablet",
  "/web/static/tablet.css",
  "/web/static/tablet.js",
  "/web/vocabulary.js",
  "/web/static/scanner.js",
  "/web/static/jsQR.js",
];

self.addEventListener("install", (event) => {
  event.waitUntil(
    caches.open(CACHE).then((cache) => cache.addAll(SHELL)).then(() => self.skipWaiting()),
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(self.clients.claim());
});

self.addEventListener("fetch", (event) => {
  const url = new URL(event.request.url);
  if (event.request.method !== "GET" || url.origin !== location.origin) return;
  if (!SHELL.includes(url.pathname)) return;
  event.respondWith(
    fetch(event.request)
      .then((response) => {
        if (response.ok) {
          const copy = response.clone();
          caches.open(CACHE).then((cache) => cache.put(url.pathname, copy));
        }
        return response;
      })
      .catch(() => caches.match(url.pathname).then((hit) => hit || Response.error())),
  );
});
