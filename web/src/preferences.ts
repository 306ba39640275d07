import type { DeliveryMode, NotifyClient, Preferences } from "../../clients/notify-js/src/index.js";
import { $, h, input } from "./dom.js";
import type { Alerts } from "./alerts.js";

/**
 * The preferences part of the settings card: per type (or `*`) live, inbox only or off, and quiet
 * hours in the browser's time zone. Saved with the version it was loaded at (If-Match), so a change
 * from another tab is never overwritten silently; that tab's change reloads this one.
 */
export class PreferencesCard {
  /** Type → mode per channel (`in_app`, and `push` when chosen). */
  private types: Record<string, { in_app?: DeliveryMode; push?: DeliveryMode }> = {};
  private version = 0;
  private loaded: Preferences | null = null;

  constructor(private readonly client: NotifyClient, private readonly alerts: Alerts) {}

  start(): void {
    input("quiet-zone").value = Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
    $("pref-add").addEventListener("click", () => {
      const type = input("pref-type").value.trim();
      if (!type) return;
      const push = ($("pref-push") as HTMLSelectElement).value as DeliveryMode | "";
      this.types[type] = { in_app: ($("pref-mode") as HTMLSelectElement).value as DeliveryMode, ...(push ? { push } : {}) };
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
    const types = this.types;
    try {
      this.show(await this.client.rest.putPreferences({ types, quiet_hours: quiet }, this.version));
      $("pref-status").textContent = `Saved (version ${this.version})`;
    } catch (err) {
      this.alerts.toast("Could not save preferences", err instanceof Error ? err.message : String(err), "error");
      await this.load();
    }
  }

  /**
   * The in-app mode for a message of `type` on `channel` now, resolved as the server does (the user's
   * entry, the user's `*`, the default entry, the default `*`, else live; quiet hours make live inbox).
   * The server already dropped what is `off`; broadcasts whose mode is `inbox` get no toast.
   */
  modeFor(type: string | undefined): DeliveryMode {
    const p = this.loaded;
    if (!p) return "live";
    const pick = (types: Preferences["types"] | null, key: string) => types?.[key]?.in_app;
    const mode = (type ? pick(p.types, type) : undefined) ?? pick(p.types, "*")
      ?? (type ? pick(p.defaults, type) : undefined) ?? pick(p.defaults, "*") ?? "live";
    return mode === "live" && p.quiet_hours && inQuietHours(p.quiet_hours.start, p.quiet_hours.end, p.quiet_hours.time_zone) ? "inbox" : mode;
  }

  private show(p: Preferences): void {
    this.loaded = p;
    this.version = p.version;
    this.types = {};
    for (const [type, channels] of Object.entries(p.types)) {
      this.types[type] = { ...(channels.in_app ? { in_app: channels.in_app } : {}), ...(channels.push ? { push: channels.push } : {}) };
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
    const push = (mode: DeliveryMode | undefined) => mode === undefined ? "" : mode === "live" ? " · push when away" : " · no push";
    list.replaceChildren(...Object.entries(this.types).map(([type, { in_app: mode = "live", push: pushMode }]) =>
      h("li", { "data-type": type, "data-mode": mode, "data-push": pushMode ?? "" },
        h("span", {}, `${type}: ${mode === "inbox" ? "inbox only" : mode}${push(pushMode)}`),
        h("button", { type: "button", class: "remove", title: `Remove ${type}` }, "×"))));
  }
}

/** Whether now, in `zone`, falls in the `HH:mm` window (an end before the start wraps over midnight). */
function inQuietHours(start: string, end: string, zone: string): boolean {
  let now: string;
  try {
    now = new Intl.DateTimeFormat("en-GB", { hour: "2-digit", minute: "2-digit", hourCycle: "h23", timeZone: zone }).format(new Date());
  } catch {
    return false;
  }
  return start <= end ? now >= start && now < end : now >= start || now < end;
}
