import { NotifyClient, type ConnectionEvent, type TransportKind } from "../../clients/notify-js/src/index.js";
import { $, input } from "./dom.js";
import { Inbox } from "./inbox.js";
import { PreferencesCard } from "./preferences.js";
import { Tasks } from "./tasks.js";
import { Admin, describe } from "./admin.js";
import { Alerts } from "./alerts.js";
import { setUpPush } from "./push.js";
import { BulkBar } from "./bulk.js";
import { clearSession, freshToken, loadSession, signIn, type Session } from "./session.js";

/** `GET /api/config`: where the Realtime replicas and the Worker are (empty = this origin). */
interface ClientConfig {
  realtime_urls: string[];
  worker_url: string | null;
  vapid_public_key: string | null;
}

/** Page flags for demos and tests: `?transports=sse,polling` restricts the transports, `?poll=ms` the polling interval. */
const params = new URLSearchParams(location.search);
const apiBase = location.origin;

async function loadConfig(): Promise<ClientConfig> {
  try {
    const res = await fetch(`${apiBase}/api/config`, { headers: { Accept: "application/json" } });
    if (res.ok) return (await res.json()) as ClientConfig;
  } catch {
    /* fall back to the page's origin */
  }
  return { realtime_urls: [], worker_url: null, vapid_public_key: null };
}

function transportsFlag(): TransportKind[] | undefined {
  const raw = params.get("transports");
  if (!raw) return undefined;
  const kinds = raw.split(",").map((s) => s.trim()).filter((s): s is TransportKind => s === "websocket" || s === "sse" || s === "polling");
  return kinds.length ? kinds : undefined;
}

async function main(): Promise<void> {
  const config = await loadConfig();
  const session = loadSession();
  if (!session) return showSignIn();
  start(config, session);
}

function showSignIn(): void {
  $("view-signin").hidden = false;
  const form = $("signin-form") as HTMLFormElement;
  const go = async (admin: boolean) => {
    const user = input("signin-user").value.trim();
    if (!form.reportValidity()) return;
    try {
      await signIn(apiBase, user, admin);
      location.hash = admin ? "#/admin" : "#/";
      location.reload();
    } catch (err) {
      const el = $("signin-error");
      el.textContent = `Sign-in failed: ${err instanceof Error ? err.message : String(err)}`;
      el.hidden = false;
    }
  };
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    void go(false);
  });
  $("signin-admin-btn").addEventListener("click", () => void go(true));
}

function start(config: ClientConfig, session: Session): void {
  const realtime = config.realtime_urls.length ? config.realtime_urls : [apiBase];
  const transports = transportsFlag();
  const poll = Number(params.get("poll"));
  let tokenRejected = false;
  const client = new NotifyClient({
    url: realtime,
    apiUrl: apiBase,
    getToken: () => freshToken(apiBase, session, tokenRejected),
    ...(transports ? { transports } : {}),
    ...(poll > 0 ? { pollIntervalMs: poll } : {}),
    maxWsAttempts: 2,
    backoff: { baseMs: 250, maxMs: 10_000 },
    upgradeIntervalMs: 60_000,
  });
  client.on("connection", (e) => {
    tokenRejected = e.code === 4001;
    renderConnection(client, e);
  });

  $("nav").hidden = false;
  $("bell").hidden = false;
  $("signout").hidden = false;
  $("who").textContent = session.admin ? `${session.userId} (admin)` : session.userId;
  $("nav-admin").hidden = !session.admin;
  $("signout").addEventListener("click", () => {
    client.close();
    clearSession();
    location.hash = "#/";
    location.reload();
  });

  void setUpPush(client.rest, config.vapid_public_key).catch(() => undefined);

  const alerts = new Alerts();
  const inbox = new Inbox(client, alerts);
  const tasks = new Tasks(client);
  const preferences = new PreferencesCard(client, alerts);
  const bulk = new BulkBar(client, alerts);
  // Channel publications and broadcasts are not inbox items: they show as toasts, unless the user's
  // preference for their type is "inbox" (the server already dropped those set to "off").
  client.subscribe("public:news");
  client.on("message", (m) => {
    if (m.channel === "admin" || String(m.channel ?? "").startsWith("admin:")) return;
    const p = (m.payload ?? {}) as { level?: string; title?: string; type?: string };
    if (preferences.modeFor(p.type) !== "live") return;
    alerts.toast(p.title ?? (m.channel ? `#${m.channel}` : "Broadcast"), describe(m.payload), p.level ?? "info");
  });
  const admin = session.admin ? new Admin(client, session, config.worker_url, realtime, () => freshToken(apiBase, session)) : null;
  $("bell").addEventListener("click", () => {
    location.hash = "#/";
  });

  const route = () => {
    const isAdmin = location.hash.startsWith("#/admin") && admin !== null;
    $("view-inbox").hidden = isAdmin;
    $("view-admin").hidden = !isAdmin;
    for (const a of document.querySelectorAll<HTMLAnchorElement>("nav a")) {
      a.classList.toggle("active", (a.dataset.route === "admin") === isAdmin);
    }
    if (isAdmin) admin!.activate();
    else admin?.deactivate();
    if (!isAdmin) inbox.shown();
  };
  window.addEventListener("hashchange", route);
  route();

  inbox.start();
  bulk.start();
  tasks.start();
  preferences.start();
  client.connect();
  // A handle for the browser tests and for poking around in the console.
  (window as unknown as { notifyApp: unknown }).notifyApp = { client, inbox, tasks, session, preferences };
}

function renderConnection(client: NotifyClient, e: ConnectionEvent): void {
  const el = $("conn");
  const names: Record<TransportKind, string> = { websocket: "WebSocket", sse: "SSE", polling: "Polling" };
  el.dataset.state = e.state;
  el.dataset.transport = e.transport ?? "";
  el.dataset.url = client.url;
  $("conn-transport").textContent = e.transport ? names[e.transport] : "offline";
  $("conn-state").textContent = e.state === "connected" ? "" : e.state;
  const attempts = $("conn-attempts");
  attempts.dataset.attempts = String(e.attempt);
  attempts.textContent = e.attempt > 0 ? `retry ${e.attempt}` : "";
  const detail = [`${e.state} via ${e.transport ?? "—"}`, client.url];
  if (e.code) detail.push(`last close ${e.code}${e.reason ? ` (${e.reason})` : ""}`);
  if (e.delayMs !== undefined && e.state === "reconnecting") detail.push(`next attempt in ${Math.round(e.delayMs)} ms`);
  $("conn-detail").textContent = detail.join(" · ");
}

void main();
