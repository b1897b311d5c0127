// The queue: unassigned and mine (with their first-response timers), and call-backs due.

import { alertAgent } from "./alerts.js";
import { api } from "./api.js";
import { openConversation } from "./conversation.js";
import { $, el } from "./dom.js";
import { FALLBACK_TARGETS, t, targets, ui } from "./labels.js";
import { complaintWords, customerName, reasonWords, severityBadge, waited } from "./readable.js";
import { session } from "./session.js";
import { updateTaskTimers } from "./tasks.js";

export let lastQueue = { queue: [], mine: [] }; // GET /api/agent/queue
let knownQueued = null; // ids seen in the queue (null until the first load: no alert then)

function timerClass(conv, seconds) {
  const target = 60 * (targets[conv.severity] || targets.unknown || 15);
  return seconds >= target ? "timer late" : seconds >= target / 2 ? "timer soon" : "timer ok";
}

// Every second: the queue's waiting timers, then the tasks' due timers.
export function updateTimers() {
  const now = Date.now() / 1000;
  for (const node of document.querySelectorAll(".timer[data-since]")) {
    const since = Number(node.dataset.since);
    node.textContent = ui("waiting", { time: waited(since) }, `waiting ${waited(since)}`);
    node.className = timerClass({ severity: node.dataset.severity }, now - since);
    node.title = ui("target", { minutes: targets[node.dataset.severity] || targets.unknown });
  }
  updateTaskTimers(now);
}

export function conversationItem(conv) {
  const item = el("li", null, "card");
  item.dataset.id = conv.id;
  item.dataset.channel = conv.channel;
  if (conv.id === session.selected) item.classList.add("selected");
  const top = el("div", null, "card-top");
  top.append(severityBadge(conv.severity), el("strong", customerName(conv), "who-card"));
  const meta = el("div", null, "line");
  meta.append(`${t("channels", conv.channel, null, conv.channel)} · `,
    el("span", t("languages", conv.language, null, conv.language), `lang lang-${conv.language}`));
  if (conv.order_id) meta.append(` · #${conv.order_id}`);
  const reason = [complaintWords(conv.complaint_type), reasonWords(conv.reason)].join(" · ");
  item.append(top, meta, el("div", reason, "line one-line"));
  if (conv.state === "queued" && conv.queued_at) {
    const timer = el("span", null, "timer");
    timer.dataset.since = conv.queued_at;
    timer.dataset.severity = conv.severity in FALLBACK_TARGETS ? conv.severity : "unknown";
    item.append(timer);
  }
  if (conv.followup) item.append(el("div", ui("followup_wanted", { kind: conv.followup }), "line"));
  item.addEventListener("click", () => openConversation(conv.id));
  return item;
}

function callbackItem(task) {
  const item = el("li", null, "card");
  item.dataset.id = task.conversation_id;
  const top = el("div");
  top.append(el("span", ui("call_back", null, "call back"), "badge callback"), " ",
    el("span", `${task.phone} · ${task.day} ${task.from}–${task.to} · ${task.language}`, "line"));
  item.append(top, el("div", task.summary || task.case_ref || task.conversation_id, "line"));
  if (task.reason) item.append(el("div", ui("reach_reason", { reason: task.reason }), "line"));
  if (task.attempts) item.append(el("div", ui("no_answer_times", { count: task.attempts }), "line"));
  const actions = el("div", null, "callback-actions");
  for (const [outcome, label] of [["done", "done"], ["no_answer", "no_answer"]]) {
    const button = el("button", ui(label));
    button.type = "button";
    button.dataset.outcome = outcome;
    button.addEventListener("click", async (event) => {
      event.stopPropagation();
      $("callback-error").textContent = "";
      try {
        await api(`/api/agent/callbacks/${encodeURIComponent(task.conversation_id)}`, {
          method: "POST", body: JSON.stringify({ outcome }),
        });
        await loadQueue();
      } catch (error) {
        $("callback-error").textContent = error.message;
      }
    });
    actions.append(button);
  }
  item.append(actions);
  item.addEventListener("click", () => openConversation(task.conversation_id));
  return item;
}

export function renderQueue() {
  const owner = $("filter-owner").value;
  const channel = $("filter-channel").value;
  const shown = (list) => list.filter((c) => !channel || c.channel === channel);
  const waiting = shown(lastQueue.queue);
  const mine = shown(lastQueue.mine);
  $("queue-section").hidden = owner === "mine";
  $("mine-section").hidden = owner === "unassigned";
  $("queue").replaceChildren(...waiting.map(conversationItem));
  $("mine").replaceChildren(...mine.map(conversationItem));
  $("queue-count").textContent = `(${waiting.length})`;
  $("mine-count").textContent = `(${mine.length})`;
  updateTimers();
}

export async function loadQueue() {
  const data = await api("/api/agent/queue");
  session.me = data.agent;
  $("whoami").textContent = ui("signed_in_as", { agent: session.me }, `Signed in as ${session.me}`);
  lastQueue = data;
  const ids = new Set(data.queue.map((c) => c.id));
  if (knownQueued !== null) {
    const fresh = data.queue.filter((c) => !knownQueued.has(c.id));
    if (fresh.length) alertAgent(ui("alert_queued"), customerName(fresh[0]));
  }
  knownQueued = ids;
  renderQueue();
  const tasks = await api("/api/agent/callbacks");
  $("callbacks").replaceChildren(...tasks.callbacks.map(callbackItem));
  $("callback-count").textContent = `(${tasks.callbacks.length})`;
}
