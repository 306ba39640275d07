import type { Notification } from "../../clients/notify-js/src/index.js";
import { $, h, input } from "./dom.js";

const TOAST_MS = 6000;
const MAX_TOASTS = 4;
const DESKTOP_KEY = "notify.desktop";

/** Toasts inside the page and opt-in desktop notifications (shown while the tab is hidden). */
export class Alerts {
  constructor() {
    const desktop = input("desktop-toggle");
    desktop.checked = localStorage.getItem(DESKTOP_KEY) === "1" && typeof Notification !== "undefined" && Notification.permission === "granted";
    desktop.addEventListener("change", async () => {
      if (!desktop.checked) {
        localStorage.removeItem(DESKTOP_KEY);
        return;
      }
      if (typeof Notification === "undefined") {
        desktop.checked = false;
        return;
      }
      const permission = Notification.permission === "granted" ? "granted" : await Notification.requestPermission();
      desktop.checked = permission === "granted";
      if (desktop.checked) localStorage.setItem(DESKTOP_KEY, "1");
    });
  }

  notify(n: Notification): void {
    if (input("toast-toggle").checked) this.toast(n.title || n.type, n.content, n.severity);
    if (input("desktop-toggle").checked && document.hidden && typeof Notification !== "undefined" && Notification.permission === "granted") {
      const d = new Notification(n.title || "Notify", { body: n.content, tag: n.id });
      d.onclick = () => {
        window.focus();
        d.close();
      };
    }
  }

  toast(title: string, body: string, severity = "info"): void {
    const box = $("toasts");
    const el = h("div", { class: "toast", "data-severity": severity, role: "status" }, h("b", {}, title), body);
    box.append(el);
    while (box.children.length > MAX_TOASTS) box.firstElementChild?.remove();
    setTimeout(() => el.remove(), TOAST_MS);
  }
}
