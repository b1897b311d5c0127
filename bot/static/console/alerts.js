// Alerts: a sound, an unread count in the tab title, an opt-in browser notification.

import { $ } from "./dom.js";
import { ui } from "./labels.js";

let unread = 0;

export function updateTitle() {
  const title = ui("title", null, "Agent console");
  document.title = unread ? `(${unread}) ${title}` : title;
}

export function updateNotifyButton() {
  const on = "Notification" in window && Notification.permission === "granted";
  $("notify").textContent = on ? ui("alerts_on") : ui("enable_alerts");
  $("notify").disabled = on || !("Notification" in window) || Notification.permission === "denied";
}

export function alertAgent(title, body) {
  document.body.dataset.alerts = String(Number(document.body.dataset.alerts || 0) + 1); // for tests
  const sound = $("alert-sound");
  sound.currentTime = 0;
  sound.play().catch(() => {}); // a browser may refuse sound before the first click
  if (!document.hasFocus()) {
    unread += 1;
    updateTitle();
  }
  if ("Notification" in window && Notification.permission === "granted" && document.hidden) {
    new Notification(title, { body, tag: "agent-console" });
  }
}

window.addEventListener("focus", () => {
  unread = 0;
  updateTitle();
});

$("notify").addEventListener("click", async () => {
  if ("Notification" in window) await Notification.requestPermission();
  updateNotifyButton();
});
