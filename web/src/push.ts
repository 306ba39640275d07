import type { NotifyRest, PushSubscriptionInput } from "../../clients/notify-js/src/index.js";
import { $ } from "./dom.js";

/** Web Push for closed tabs: registers `/sw.js` and, once the user allows notifications, this browser's subscription. */
export async function setUpPush(rest: NotifyRest, vapidPublicKey: string | null): Promise<void> {
  if (!("serviceWorker" in navigator)) return;
  // A click on a pushed notification focuses this tab and asks it to show the inbox.
  navigator.serviceWorker.addEventListener("message", (e: MessageEvent<{ type?: string; url?: string }>) => {
    if (e.data?.type !== "notify.open") return;
    location.hash = new URL(e.data.url ?? "/", location.href).hash || "#/";
    window.focus();
  });
  const registration = await navigator.serviceWorker.register("/sw.js");
  if (!vapidPublicKey || !("PushManager" in window) || !("Notification" in window)) return;
  const button = $("push-enable") as HTMLButtonElement;
  const subscribe = async () => {
    const subscription =
      (await registration.pushManager.getSubscription()) ??
      (await registration.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: vapidPublicKey }));
    await rest.savePushSubscription(subscription.toJSON() as PushSubscriptionInput);
    button.hidden = true;
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
