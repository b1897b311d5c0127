// The tasks tab: remedies the team carries out (GET /api/agent/tasks), each with its due
// time; an agent claims one, then closes it as done or failed.

import { alertAgent } from "./alerts.js";
import { api } from "./api.js";
import { openConversation } from "./conversation.js";
import { $, el } from "./dom.js";
import { lang, t, ui } from "./labels.js";
import { duration } from "./readable.js";
import { session } from "./session.js";

let taskLists = { tasks: [], closed: [] }; // GET /api/agent/tasks
let overdueKnown = null; // ids of tasks seen overdue (null until the first load: no alert then)
const taskNotes = {}; // what the agent has typed in a task's note, by task id

// Green until half its time is gone, amber after, red once past due (like the queue's
// first-response timers); a task falling overdue while the console is open alerts.
function taskTimerClass(task, now) {
  const left = task.due_at - now;
  return left <= 0 ? "timer late" : left <= (task.due_at - task.created_at) / 2 ? "timer soon" : "timer ok";
}

export function updateTaskTimers(now) {
  let late = 0;
  for (const task of taskLists.tasks) {
    const overdue = now >= task.due_at;
    if (overdue) late += 1;
    if (overdue && overdueKnown !== null && !overdueKnown.has(task.id)) {
      overdueKnown.add(task.id);
      alertAgent(ui("alert_task_overdue"), taskName(task));
    }
  }
  for (const node of document.querySelectorAll(".timer[data-due]")) {
    const task = { due_at: Number(node.dataset.due), created_at: Number(node.dataset.created) };
    const left = task.due_at - now;
    node.textContent = left > 0 ? ui("task_due_in", { time: duration(left) }) : ui("task_overdue", { time: duration(-left) });
    node.className = taskTimerClass(task, now);
    node.title = ui("task_due_at", { time: new Date(task.due_at * 1000).toLocaleString(lang) });
  }
  const badge = $("task-badge");
  badge.textContent = String(taskLists.tasks.length);
  badge.hidden = taskLists.tasks.length === 0;
  badge.classList.toggle("late", late > 0);
}

function taskName(task) {
  if (task.remedy === "carrier_trace") return t("tasks", "carrier_trace", { carrier: task.carrier || "?" });
  return t("remedies", task.remedy, null, task.remedy);
}

function taskCustomer(task) {
  const c = task.customer || {};
  const who = [c.name, c.email, c.phone].filter(Boolean).join(" · ") || ui("unknown_customer");
  return c.verified ? who : ui("task_customer_claimed", { who });
}

function taskButton(label, handler) {
  const button = el("button", label);
  button.type = "button";
  button.addEventListener("click", (event) => {
    event.stopPropagation();
    handler();
  });
  return button;
}

async function taskAction(task, path, body) {
  $("task-error").textContent = "";
  try {
    await api(`/api/agent/tasks/${encodeURIComponent(task.id)}/${path}`, {
      method: "POST", body: JSON.stringify(body || {}),
    });
    await loadTasks();
  } catch (error) {
    $("task-error").textContent = error.message;
  }
}

function taskItem(task) {
  const item = el("li", null, task.status === "done" || task.status === "failed" ? "card closed" : "card");
  item.dataset.id = task.id;
  item.dataset.status = task.status;
  const top = el("div", null, "card-top");
  top.append(el("span", taskName(task), "badge task"));
  item.append(top, el("div", taskCustomer(task), "line"));
  const about = [];
  if (task.order_id) about.push(ui("task_order", { order_id: task.order_id }));
  if (task.amount !== null && task.amount !== undefined) {
    about.push(ui("task_amount", { amount: Number(task.amount).toLocaleString(lang), currency: task.currency }));
  }
  about.push(ui("task_case", { case: task.case_ref }));
  about.push(`${t("channels", task.channel, null, task.channel)} · ${t("languages", task.language, null, task.language)}`);
  item.append(el("div", about.join(" · "), "line"));
  if (task.api_failure) item.append(el("div", ui("task_api_failure", { reason: task.api_failure }), "line"));
  if (task.status === "open" || task.status === "claimed") {
    const timer = el("span", null, "timer");
    timer.dataset.due = task.due_at;
    timer.dataset.created = task.created_at;
    item.append(timer);
  }
  if (task.status === "claimed") item.append(el("div", ui("task_claimed_by", { agent: task.agent }), "line"));
  if (task.status === "done") item.append(el("div", ui("task_status_done", { agent: task.agent }), "line"));
  if (task.status === "failed") item.append(el("div", ui("task_status_failed", { agent: task.agent, note: task.note }), "line"));
  if ((task.status === "done" || task.status === "failed") && task.closed_at > task.due_at) {
    item.append(el("span", ui("task_late"), "timer late"));
  }
  if (task.told) item.append(el("div", ui("task_told", { where: t("told", task.told, null, task.told) }), "line"));
  const actions = el("div", null, "task-actions");
  if (task.status === "open") actions.append(taskButton(ui("claim"), () => taskAction(task, "claim")));
  if (task.status === "claimed" && task.agent === session.me) {
    const note = el("input");
    note.maxLength = 2000;
    note.placeholder = ui("task_note");
    note.setAttribute("aria-label", ui("task_note"));
    note.value = taskNotes[task.id] || ""; // kept while the list is drawn again
    note.addEventListener("input", () => { taskNotes[task.id] = note.value; });
    note.addEventListener("click", (event) => event.stopPropagation());
    actions.append(note,
      taskButton(ui("done"), () => taskAction(task, "close", { outcome: "done", note: note.value })),
      taskButton(ui("task_failed"), () => taskAction(task, "close", { outcome: "failed", note: note.value })));
  }
  if (actions.children.length) item.append(actions);
  item.addEventListener("click", () => openConversation(task.conversation_id).catch(() => {}));
  return item;
}

export function renderTasks() {
  const now = Date.now() / 1000;
  const pending = taskLists.tasks;
  $("tasks").replaceChildren(...(pending.length ? pending.map(taskItem) : [el("li", ui("tasks_none"))]));
  $("tasks-closed").replaceChildren(...taskLists.closed.map(taskItem));
  if (overdueKnown === null) overdueKnown = new Set(pending.filter((task) => now >= task.due_at).map((task) => task.id));
  updateTaskTimers(now);
}

export async function loadTasks() {
  taskLists = await api("/api/agent/tasks");
  renderTasks();
}

function showTab(name) {
  for (const tab of ["conversations", "tasks"]) {
    $(`tab-${tab}`).setAttribute("aria-selected", String(tab === name));
    $(`panel-${tab}`).hidden = tab !== name;
  }
}
$("tab-conversations").addEventListener("click", () => showTab("conversations"));
$("tab-tasks").addEventListener("click", () => showTab("tasks"));
