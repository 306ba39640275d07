// Notify's service worker: shows a Web Push message as a system notification and opens the inbox when
// it is clicked. The Worker sends { id, type, title, body, url } (encrypted; the browser decrypts it).
self.addEventListener("install", () => self.skipWaiting());
self.addEventListener("activate", (event) => event.waitUntil(self.clients.claim()));

self.addEventListener("push", (event) => {
  let data = {};
  try {
    data = event.data ? event.data.json() : {};
  } catch {
    data = { title: event.data ? event.data.text() : "" };
  }
  const title = data.title || "New notification";
  event.waitUntil(
    self.registration.showNotification(title, {
      body: data.body || "",
      tag: data.id || undefined,
      data: { url: data.url || "/", id: data.id || null },
    }),
  );
});

// A click opens the inbox: an open Notify tab is focused and told to show it (a message, so the page
// switches views without reloading); without one, a new window opens on the pushed url.
self.addEventListener("notificationclick", (event) => {
  event.notification.close();
  const target = new URL(event.notification.data?.url || "/", self.location.origin).href;
  event.waitUntil(
    self.clients.matchAll({ type: "window", includeUncontrolled: true }).then(async (windows) => {
      const open = windows.find((w) => w.url.startsWith(self.location.origin));
      if (!open) return self.clients.openWindow(target);
      // Focusing needs the click's user activation; the message works without it.
      await open.focus().catch(() => undefined);
      open.postMessage({ type: "notify.open", url: target, id: event.notification.data?.id ?? null });
      return undefined;
    }),
  );
});
