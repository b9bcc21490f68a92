const CACHE = "mesh-v86d9155f";
const ASSETS = ["/", "/app.min.js", "/fonts.css"];
self.addEventListener("install", (e) => e.waitUntil(caches.open(CACHE).then((c) => c.addAll(ASSETS))));
self.addEventListener("fetch", (e) => {
  const req = e.request;
  if (req.headers.get("Authorization")) return; // never cache authenticated requests
  e.respondWith(caches.match(req).then((r) => r || fetch(req)));
});
