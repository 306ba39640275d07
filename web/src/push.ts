import { $ } from "./dom.js";

/** Web Push for closed tabs: registers `/sw.js` and, once the user allows notifications, this browser's subscription. */
export async function setUpPush(apiBase: string, vapidPublicKey: string | null, token: () => Promise<string>): Promise<void> {
  if (!("serviceWorker" in navigator)) return;
  const registration = await navigator.serviceWorker.register("/sw.js");
  if (!vapidPublicKey || !("PushManager" in window) || !("Notification" in window)) return;
  const button = $("push-enable") as HTMLButtonElement;
  const subscribe = async () => {
    const subscription =
      (await registration.pushManager.getSubscription()) ??
      (await registration.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: vapidPublicKey }));
    const res = await fetch(`${apiBase}/api/me/push-subscriptions`, {
      method: "POST",
      headers: { "Content-Type": "application/json", Authorization: `Bearer ${await token()}` },
      body: JSON.stringify(subscription.toJSON()),
    });
    button.hidden = res.ok;
  };
  if (Notification.permission === "granted") {
    await subscribe();
    return;
  }
  if (Notification.permission === "denied") return;
  button.hidden = false;
  button.addEventListener("click", async () => {
    if ((await Notification.requestPermission()) === "granted") await subscribe();
  });
}
