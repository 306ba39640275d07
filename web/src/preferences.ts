import type { DeliveryMode, NotifyClient, Preferences } from "../../clients/notify-js/src/index.js";
import { $, h, input } from "./dom.js";
import type { Alerts } from "./alerts.js";

/**
 * The preferences part of the settings card: per type (or `*`) live, inbox only or off, and quiet
 * hours in the browser's time zone. Saved with the version it was loaded at (If-Match), so a change
 * from another tab is never overwritten silently; that tab's change reloads this one.
 */
export class PreferencesCard {
  private types: Record<string, DeliveryMode> = {};
  private version = 0;

  constructor(private readonly client: NotifyClient, private readonly alerts: Alerts) {}

  start(): void {
    input("quiet-zone").value = Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
    $("pref-add").addEventListener("click", () => {
      const type = input("pref-type").value.trim();
      if (!type) return;
      this.types[type] = ($("pref-mode") as HTMLSelectElement).value as DeliveryMode;
      input("pref-type").value = "";
      this.render();
    });
    $("pref-list").addEventListener("click", (e) => {
      const li = (e.target as HTMLElement).closest("button.remove")?.closest<HTMLLIElement>("li");
      if (!li) return;
      delete this.types[li.dataset.type!];
      this.render();
    });
    $("pref-save").addEventListener("click", () => void this.save());
    this.client.on("preferences", ({ version }) => {
      if (version !== this.version) void this.load();
    });
    void this.load();
  }

  async load(): Promise<void> {
    try {
      this.show(await this.client.rest.preferences());
    } catch (err) {
      $("pref-status").textContent = `Could not load: ${err instanceof Error ? err.message : String(err)}`;
    }
  }

  private async save(): Promise<void> {
    const quiet = (input("quiet-on") as HTMLInputElement).checked
      ? { start: input("quiet-start").value, end: input("quiet-end").value, time_zone: input("quiet-zone").value.trim() }
      : null;
    const types = Object.fromEntries(Object.entries(this.types).map(([type, mode]) => [type, { in_app: mode }]));
    try {
      this.show(await this.client.rest.putPreferences({ types, quiet_hours: quiet }, this.version));
      $("pref-status").textContent = `Saved (version ${this.version})`;
    } catch (err) {
      this.alerts.toast("Could not save preferences", err instanceof Error ? err.message : String(err), "error");
      await this.load();
    }
  }

  private show(p: Preferences): void {
    this.version = p.version;
    this.types = {};
    for (const [type, channels] of Object.entries(p.types)) {
      if (channels.in_app) this.types[type] = channels.in_app;
    }
    (input("quiet-on") as HTMLInputElement).checked = p.quiet_hours !== null;
    if (p.quiet_hours) {
      input("quiet-start").value = p.quiet_hours.start;
      input("quiet-end").value = p.quiet_hours.end;
      input("quiet-zone").value = p.quiet_hours.time_zone;
    }
    $("pref-status").textContent = p.version > 0 ? `Version ${p.version}` : "Everything live (nothing chosen)";
    this.render();
  }

  private render(): void {
    const list = $("pref-list");
    list.replaceChildren(...Object.entries(this.types).map(([type, mode]) =>
      h("li", { "data-type": type, "data-mode": mode },
        h("span", {}, `${type}: ${mode === "inbox" ? "inbox only" : mode}`),
        h("button", { type: "button", class: "remove", title: `Remove ${type}` }, "×"))));
  }
}
