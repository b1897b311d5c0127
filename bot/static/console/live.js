// The console's live socket (/api/agent/ws): the hub says what changed, the console loads
// it again. It reconnects with a growing delay (up to 10 s), also when a stopping hub
// closes it, through the load balancer to another hub.

import { alertAgent } from "./alerts.js";
import { openConversation, transcriptItem } from "./conversation.js";
import { $ } from "./dom.js";
import { ui } from "./labels.js";
import { lastQueue, loadQueue } from "./queue.js";
import { customerName } from "./readable.js";
import { session } from "./session.js";
import { loadTasks } from "./tasks.js";

export function connect(delay = 500) {
  const scheme = window.location.protocol === "https:" ? "wss" : "ws";
  const socket = new WebSocket(`${scheme}://${window.location.host}/api/agent/ws`);
  socket.addEventListener("open", () => {
    $("live").textContent = ui("live", null, "live");
    $("live").classList.add("ok");
    delay = 500;
    loadQueue();
    loadTasks().catch(() => {});
  });
  socket.addEventListener("message", (event) => {
    const data = JSON.parse(event.data);
    if (data.type === "queue") loadQueue();
    if (data.type === "tasks") loadTasks().catch(() => {});
    if (data.type === "reconnected") {  // the hub lost Redis for a while: events may be missing
      loadQueue();
      loadTasks().catch(() => {});
      if (session.selected) openConversation(session.selected);
    }
    if (data.type === "transfer" && data.to === session.me) {
      alertAgent(ui("alert_transfer"), data.conversation_id);
      loadQueue();
    }
    if (data.type !== "message") return;
    const message = data.message || {};
    if (data.conversation_id === session.selected) {
      $("transcript").append(transcriptItem(message));
      if (session.current) session.current.transcript.push(message);
    }
    const mine = lastQueue.mine.find((c) => c.id === data.conversation_id);
    if (message.from === "customer" && mine) alertAgent(ui("alert_message"), customerName(mine));
  });
  socket.addEventListener("close", () => {
    $("live").textContent = ui("reconnecting", null, "reconnecting…");
    $("live").classList.remove("ok");
    setTimeout(() => connect(Math.min(delay * 2, 10000)), delay);
  });
}
