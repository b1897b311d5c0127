// Agent console. Everything a customer wrote is shown with textContent, never as HTML.
// The words come from data/hub/console.yml (GET /api/agent/labels), in the agent's
// language (stored in localStorage); the few fallbacks here only cover a failed load.
"use strict";

const $ = (id) => document.getElementById(id);
const LANG_KEY = "console.lang";
const FALLBACK_TARGETS = { critical: 2, high: 5, medium: 15, low: 60, unknown: 15 };
let selected = null;
let me = "";
let labels = {};
let targets = FALLBACK_TARGETS;
let lang = localStorage.getItem(LANG_KEY) === "vi" ? "vi" : "en";
let lastQueue = { queue: [], mine: [] };
let current = null; // the open conversation, as GET /api/agent/conversations/{id} gave it
let knownQueued = null; // ids seen in the queue (null until the first load: no alert then)
let unread = 0;
let taskLists = { tasks: [], closed: [] }; // GET /api/agent/tasks
let overdueKnown = null; // ids of tasks seen overdue (null until the first load: no alert then)
const taskNotes = {}; // what the agent has typed in a task's note, by task id

function el(tag, text, className) {
  const node = document.createElement(tag);
  if (text !== undefined && text !== null) node.textContent = String(text);
  if (className) node.className = className;
  return node;
}

function fill(template, values) {
  return String(template).replace(/\{(\w+)\}/g, (whole, name) =>
    (values && values[name] !== undefined && values[name] !== null ? String(values[name]) : whole));
}

// A label in the agent's language: labels[group][key][lang], else English, else `fallback`.
function t(group, key, values, fallback) {
  const entry = (labels[group] || {})[key];
  const text = entry ? (entry[lang] || entry.en) : (fallback !== undefined ? fallback : key);
  return fill(text, values);
}

const ui = (key, values, fallback) => t("ui", key, values, fallback);

async function api(path, options = {}) {
  const response = await fetch(path, {
    credentials: "same-origin",
    headers: { "Content-Type": "application/json" },
    ...options,
  });
  if (response.status === 401) {
    window.location.href = "/agent/login";
    throw new Error("signed out");
  }
  const body = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(body.error || `HTTP ${response.status}`);
  return body;
}

function applyLabels() {
  document.documentElement.lang = lang;
  for (const node of document.querySelectorAll("[data-label]")) {
    node.textContent = ui(node.dataset.label, null, node.textContent);
  }
  for (const node of document.querySelectorAll("[data-aria-label]")) {
    node.setAttribute("aria-label", ui(node.dataset.ariaLabel, null, node.getAttribute("aria-label")));
  }
  for (const node of document.querySelectorAll("[data-placeholder]")) {
    node.placeholder = ui(node.dataset.placeholder, null, node.placeholder);
  }
  for (const node of document.querySelectorAll("[data-channel]")) {
    node.textContent = t("channels", node.dataset.channel, null, node.dataset.channel);
  }
  for (const option of $("console-lang").options) {
    option.textContent = t("languages", option.value, null, option.textContent);
  }
  $("console-lang").value = lang;
  $("live").textContent = $("live").classList.contains("ok") ? ui("live", null, "live") : ui("connecting", null, "connecting…");
  if (me) $("whoami").textContent = ui("signed_in_as", { agent: me }, `Signed in as ${me}`);
  updateNotifyButton();
  updateTitle();
}

async function loadLabels() {
  try {
    const data = await api("/api/agent/labels");
    labels = data.labels || {};
    targets = data.first_response_minutes || FALLBACK_TARGETS;
  } catch (error) {
    labels = {}; // the fallbacks in the page and here still make a usable console
  }
  applyLabels();
}

// --- readable pieces --------------------------------------------------------------

function waited(since) {
  return duration(Date.now() / 1000 - since);
}

function duration(span) {
  const seconds = Math.max(0, Math.round(span));
  const d = Math.floor(seconds / 86400);
  if (d) return `${d}d ${Math.floor((seconds % 86400) / 3600)}h`;
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  return h ? `${h}h ${m}m` : m ? `${m}m ${String(s).padStart(2, "0")}s` : `${s}s`;
}

function severityBadge(level) {
  const known = level in FALLBACK_TARGETS ? level : "unknown";
  return el("span", t("severity_levels", known, null, known), `sev sev-${known}`);
}

// The packet's severity reason codes in words; "base" (the playbook's starting point)
// is not shown.
function severityPhrases(reasons) {
  const phrases = [];
  for (const code of reasons || []) {
    if (code === "base") continue;
    const phrase = t("severity_reasons", code, null, String(code));
    if (!phrases.includes(phrase)) phrases.push(phrase);
  }
  return phrases;
}

function complaintWords(type) {
  return t("complaint_types", type || "unknown", null, type || t("complaint_types", "unknown"));
}

function reasonWords(reason) {
  return reason ? t("reasons", reason, null, reason) : t("reasons", "unknown", null, "");
}

function shortId(id) {
  return String(id || "").replace(/^(rest-|fb-)/, "").slice(-6);
}

// Who the customer is: their name once verified, else the channel and a short id.
function customerName(conv, packet) {
  const customer = (packet && packet.customer) || {};
  const name = conv.customer_name || (customer.verified ? customer.name : "");
  if (name) return name;
  return ui("guest_short", { channel: t("channels", conv.channel, null, conv.channel), id: shortId(conv.id) },
    `${conv.channel} ${shortId(conv.id)}`);
}

function trustWords(conv, packet) {
  const customer = (packet && packet.customer) || {};
  if (conv.shop_customer) return t("trust", "verified_by_shop_signature");
  if (customer.verified) return t("trust", `verified_by_${customer.verified_by}`, null, t("trust", "verified"));
  if (/Messenger/.test(conv.trust || "")) return t("trust", "messenger");
  if (/Zalo/.test(conv.trust || "")) return t("trust", "zalo");
  return t("trust", "guest", null, conv.trust || "guest");
}

function timerClass(conv, seconds) {
  const target = 60 * (targets[conv.severity] || targets.unknown || 15);
  return seconds >= target ? "timer late" : seconds >= target / 2 ? "timer soon" : "timer ok";
}

function updateTimers() {
  const now = Date.now() / 1000;
  for (const node of document.querySelectorAll(".timer[data-since]")) {
    const since = Number(node.dataset.since);
    node.textContent = ui("waiting", { time: waited(since) }, `waiting ${waited(since)}`);
    node.className = timerClass({ severity: node.dataset.severity }, now - since);
    node.title = ui("target", { minutes: targets[node.dataset.severity] || targets.unknown });
  }
  updateTaskTimers(now);
}

// --- the tasks tab: remedies the team carries out, each with its due time -------------

// Green until half its time is gone, amber after, red once past due (like the queue's
// first-response timers); a task falling overdue while the console is open alerts.
function taskTimerClass(task, now) {
  const left = task.due_at - now;
  return left <= 0 ? "timer late" : left <= (task.due_at - task.created_at) / 2 ? "timer soon" : "timer ok";
}

function updateTaskTimers(now) {
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
  if (task.status === "claimed" && task.agent === me) {
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
  item.addEventListener("click", () => open(task.conversation_id).catch(() => {}));
  return item;
}

function renderTasks() {
  const now = Date.now() / 1000;
  const open = taskLists.tasks;
  $("tasks").replaceChildren(...(open.length ? open.map(taskItem) : [el("li", ui("tasks_none"))]));
  $("tasks-closed").replaceChildren(...taskLists.closed.map(taskItem));
  if (overdueKnown === null) overdueKnown = new Set(open.filter((task) => now >= task.due_at).map((task) => task.id));
  updateTaskTimers(now);
}

async function loadTasks() {
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

// --- the queue --------------------------------------------------------------------

function conversationItem(conv) {
  const item = el("li", null, "card");
  item.dataset.id = conv.id;
  item.dataset.channel = conv.channel;
  if (conv.id === selected) item.classList.add("selected");
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
  item.addEventListener("click", () => open(conv.id));
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
  item.addEventListener("click", () => open(task.conversation_id));
  return item;
}

function renderQueue() {
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

async function loadQueue() {
  const data = await api("/api/agent/queue");
  me = data.agent;
  $("whoami").textContent = ui("signed_in_as", { agent: me }, `Signed in as ${me}`);
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

// --- alerts: a sound, an unread count in the tab title, an opt-in notification ----------

function updateTitle() {
  const title = ui("title", null, "Agent console");
  document.title = unread ? `(${unread}) ${title}` : title;
}

function updateNotifyButton() {
  const on = "Notification" in window && Notification.permission === "granted";
  $("notify").textContent = on ? ui("alerts_on") : ui("enable_alerts");
  $("notify").disabled = on || !("Notification" in window) || Notification.permission === "denied";
}

function alertAgent(title, body) {
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

// --- the open conversation ----------------------------------------------------------

function addContext(list, label, value) {
  if (value === undefined || value === null || value === "" ||
      (Array.isArray(value) && value.length === 0)) return null;
  const dd = el("dd");
  if (value instanceof Node) dd.append(value);
  else dd.textContent = String(value);
  list.append(el("dt", label), dd);
  return dd;
}

// A summary about the customer, in the agent's language, from the packet's fields.
function summaryOf(p) {
  const customer = p.customer || {};
  const details = p.details || {};
  const who = customer.verified && customer.name
    ? t("summary", "who_named", { name: customer.name }) : t("summary", "who_guest");
  const parts = [t("summary", "about", { who, complaint: complaintWords(p.complaint_type).toLowerCase() })];
  if (p.order) {
    const items = (p.order.items || {})[lang] || (p.order.items || {}).en || "";
    parts.push(t("summary", "order", { order_id: p.order.order_id, items,
      status: t("order_status", p.order.status, null, p.order.status) }));
  } else if (p.claimed_order) {
    parts.push(t("summary", "claimed_order", { order_id: p.claimed_order.order_id || details.order_id }));
  } else if (details.order_id) {
    parts.push(t("summary", "order_not_found", { order_id: details.order_id }));
  } else if (p.reason !== "assistant_unavailable") {
    parts.push(t("summary", "no_order"));
  }
  const offered = (p.remedies || []).map(remedyWords);
  parts.push(offered.length ? t("summary", "offered", { remedies: offered.join(", ") })
    : t("summary", "nothing_offered"));
  parts.push(t("summary", "handed_over", { reason: reasonWords(p.reason).toLowerCase() }));
  return parts.join(" ");
}

function remedyWords(r) {
  return `${t("remedies", r.remedy, null, r.remedy)} (${t("answers", r.answer, null, r.answer)})`;
}

function detailsList(p) {
  const trust = p.details_trust || {};
  const list = el("ul", null, "details");
  for (const [key, value] of Object.entries(p.details || {})) {
    const item = el("li");
    const state = trust[key] || "claimed";
    item.append(`${t("details", key, null, key)}: ${value} `, el("span", t("trust", state), `trust trust-${state}`));
    list.append(item);
  }
  return list.children.length ? list : t("context", "none_yet");
}

function severityNode(p, conv) {
  const severity = p.severity || {};
  const node = el("span");
  node.append(severityBadge(severity.level || conv.severity));
  const phrases = severityPhrases(severity.reasons);
  if (phrases.length) node.append(" ", el("span", phrases.join(", "), "sev-reasons"));
  return node;
}

function renderContext(conv) {
  const list = $("context");
  list.replaceChildren();
  if (conv.packet && !conv.packet_readable) {
    // A packet of another schema version: shown as it is, never guessed at.
    addContext(list, t("context", "summary"), ui("packet_unreadable"));
    addContext(list, t("context", "note"), conv.note);
    $("raw-packet").textContent = JSON.stringify(conv.packet, null, 2);
    return;
  }
  const p = conv.packet || {};
  addContext(list, t("context", "reason"), reasonWords(p.reason));
  addContext(list, t("context", "complaint"), complaintWords(p.complaint_type));
  addContext(list, t("context", "severity"), severityNode(p, conv));
  addContext(list, t("context", "summary"), conv.packet ? summaryOf(p) : "");
  const customer = el("span");
  customer.append(el("strong", customerName(conv, p)), " ", el("span", trustWords(conv, p),
    `trust trust-${(p.customer || {}).verified || conv.shop_customer ? "verified" : "claimed"}`));
  if ((p.customer || {}).tier) customer.append(` · ${t("context", "tier", { tier: p.customer.tier })}`);
  addContext(list, t("context", "customer"), customer);
  const language = conv.language || p.language;
  addContext(list, t("context", "language"), el("span", t("languages", language, null, language), `lang lang-${language}`));
  if (conv.packet) addContext(list, t("context", "details"), detailsList(p));
  if (p.order) {
    const items = (p.order.items || {})[lang] || (p.order.items || {}).en || "";
    addContext(list, t("context", "order"), `${p.order.order_id}: ${items}, ${t("order_status", p.order.status, null, p.order.status)}, ${p.order.value} VND${p.order.carrier ? ", " + p.order.carrier : ""}`);
  }
  if (p.claimed_order) {
    const items = (p.claimed_order.items || {})[lang] || (p.claimed_order.items || {}).en || "";
    addContext(list, t("context", "claimed_order"), `${p.claimed_order.order_id}: ${items}, ${t("order_status", p.claimed_order.status, null, p.claimed_order.status)}`);
  }
  if (conv.packet) addContext(list, t("context", "remedies"), (p.remedies || []).map(remedyWords).join("\n") || t("context", "none"));
  addContext(list, t("context", "history"), ((p.customer || {}).history || []).map((c) =>
    `${c.case_ref} ${complaintWords(c.complaint_type)} (${c.status})`).join("\n"));
  addContext(list, t("context", "case"), p.case_ref);
  addContext(list, t("context", "followup"), conv.followup);
  addContext(list, t("context", "note"), conv.note);
  $("raw-packet").textContent = JSON.stringify(p, null, 2);
}

function transcriptItem(entry) {
  const item = el("li", null, `from-${entry.from}`);
  // A payload ("/request_human", '/choose_remedy{"remedy": "refund"}') was a button press.
  const payload = entry.from === "customer" && /^\/[a-z_]+/.test(entry.text || "");
  const shown = payload ? ui("pressed", { button: entry.text.slice(1) }) : entry.text;
  const data = entry.data || {};
  const who = entry.from === "note" ? t("from", "note", { agent: data.agent || "" })
    : entry.from === "agent" && data.agent ? `${t("from", "agent")} · ${data.agent}` : t("from", entry.from, null, entry.from);
  item.append(el("span", who, "who"), el("span", shown || (data.buttons ? ui("buttons") : "")));
  // A follow-up the channel's window did not allow: where it went instead.
  if (data.held_by) item.append(el("span", ui(`held_${data.held_by}`, { channel: t("channels", data.held, null, data.held) }), "who"));
  const buttons = data.buttons || [];
  if (buttons.length) item.append(el("span", buttons.map((b) => `[${b.title}]`).join(" "), "who"));
  return item;
}

function renderMeta(conv) {
  const p = conv.packet || {};
  let window24 = "";
  if (conv.window) {  // the channel's reply window (bot/core/windows.py): Messenger, Zalo
    const w = conv.window;
    const until = (time) => (time ? new Date(time * 1000).toLocaleString(lang) : "");
    const channel = t("channels", w.channel, null, w.channel);
    const key = w.state === "closed" && w.reason === "quota" ? "window_closed_quota" : `window_${w.state}`;
    window24 = ` · ${ui(key, { until: until(w.closes_at), channel }, w.state)}`;
    if (w.state === "open" && w.replies_left !== null && w.replies_left !== undefined) {
      window24 += ` (${ui("window_replies_left", { left: w.replies_left })})`;
    }
  }
  const state = ui(`state_${conv.state}`, { agent: conv.agent }, conv.state);
  $("conv-title").textContent = customerName(conv, p);
  $("conv-meta").textContent = `${state} · ${t("channels", conv.channel, null, conv.channel)} · ` +
    `${trustWords(conv, p)} · ${t("languages", conv.language, null, conv.language)}${window24}`;
}

function render(conv) {
  renderMeta(conv);
  renderContext(conv);
  $("transcript").replaceChildren(...conv.transcript.map(transcriptItem));
}

async function open(id) {
  selected = id;
  const conv = await api(`/api/agent/conversations/${encodeURIComponent(id)}`);
  current = conv;
  $("empty").hidden = true;
  $("detail").hidden = false;
  $("claim").disabled = conv.state !== "queued";
  const mine = conv.state === "agent" && conv.agent === me;
  for (const button of ["handback", "resolve", "release", "transfer", "transfer-to"]) $(button).disabled = !mine;
  if (mine) await loadColleagues();
  $("reply-text").disabled = !mine;
  if (mine) await loadCanned(id);
  render(conv);
  await loadPanel(id);
  $("action-error").textContent = "";
  await loadQueue();
}

async function act(path, body) {
  $("action-error").textContent = "";
  try {
    await api(`/api/agent/conversations/${encodeURIComponent(selected)}/${path}`, {
      method: "POST", body: JSON.stringify(body || {}),
    });
    await open(selected);
    return true;
  } catch (error) {
    $("action-error").textContent = error.message;
    return false;
  }
}

$("claim").addEventListener("click", () => act("claim"));
$("release").addEventListener("click", () => act("release"));
$("transfer").addEventListener("click", () => {
  if ($("transfer-to").value) act("transfer", { to: $("transfer-to").value });
});

// Colleagues to transfer to: only those online can be picked.
async function loadColleagues() {
  const select = $("transfer-to");
  let agents = [];
  try {
    agents = (await api("/api/agent/agents")).agents;
  } catch (error) {
    agents = [];
  }
  const options = agents.map((a) => {
    const option = el("option", a.online ? a.name : ui("offline", { agent: a.name }));
    option.value = a.name;
    option.disabled = !a.online;
    return option;
  });
  if (!agents.some((a) => a.online)) {
    const none = el("option", ui("no_colleagues"));
    none.value = "";
    options.unshift(none);
  }
  select.replaceChildren(...options);
  const first = agents.find((a) => a.online);
  select.value = first ? first.name : "";
  $("transfer").disabled = !first;
}
$("resolve").addEventListener("click", () => act("resolve", { note: $("note").value }));
$("handback").addEventListener("click", () => act("handback", { note: $("note").value }));
$("reply").addEventListener("submit", async (event) => {
  event.preventDefault();
  closeCanned();
  const text = $("reply-text").value.trim();
  if (!text) return;
  if (await act("messages", { text })) $("reply-text").value = "";
});

// --- the customer panel and search: earlier cases with their outcome and CSAT ------------

function caseLine(c) {
  const parts = [c.case_ref, complaintWords(c.complaint_type), t("case_status", c.status, null, c.status || "")];
  if (c.remedy) parts.push(t("remedies", c.remedy, null, c.remedy));
  parts.push(c.csat ? ui("csat_score", { score: c.csat }) : ui("no_csat"));
  if (c.created_at) parts.push(new Date(c.created_at * 1000).toLocaleDateString(lang));
  return parts.filter(Boolean).join(" · ");
}

function whoLine(customer) {
  if (!customer || !customer.known) return ui("unknown_customer");
  const parts = [customer.name, customer.email, customer.phone].filter(Boolean);
  const state = customer.verified ? t("trust", "verified") : t("trust", "claimed");
  return `${parts.join(" · ") || "…"} (${state})`;
}

async function loadPanel(id) {
  try {
    const data = await api(`/api/agent/conversations/${encodeURIComponent(id)}/customer`);
    $("panel-who").textContent = whoLine(data.customer);
    const items = data.cases.map((c) => {
      const item = el("li", caseLine(c) + (c.current ? ` (${ui("this_conversation")})` : ""), c.current ? "current" : "");
      if (c.conversation_id && !c.current) {
        item.tabIndex = 0;
        item.addEventListener("click", () => open(c.conversation_id).catch(() => {}));
      }
      return item;
    });
    $("panel-cases").replaceChildren(...(items.length ? items : [el("li", ui("no_cases"))]));
    showLock(data.proof_lock);
  } catch (error) {
    $("panel-who").textContent = error.message;
    $("panel-cases").replaceChildren();
    showLock(null);
  }
}

// Too many wrong emails or phones for the conversation's order (bot/console/proof_lock.py).
function showLock(lock) {
  $("panel-lock").hidden = !lock;
  if (!lock) return;
  const minutes = Math.ceil(lock.expires_in / 60);
  const time = ui("hours_minutes", { hours: Math.floor(minutes / 60), minutes: minutes % 60 });
  $("panel-lock-text").textContent = ui("proof_locked", { order: lock.order_id, failures: lock.failures, time });
}

$("lift-lock").addEventListener("click", () => act("proof-lock/lift"));

$("search").addEventListener("submit", async (event) => {
  event.preventDefault();
  const query = $("search-q").value.trim();
  const list = $("search-results");
  if (!query) {
    list.hidden = true;
    return;
  }
  try {
    const data = await api(`/api/agent/search?q=${encodeURIComponent(query)}`);
    const items = data.cases.map((c) => {
      const item = el("li", null, "card");
      item.append(el("div", caseLine(c)), el("div", whoLine(c.customer), "line"));
      if (c.conversation_id) item.addEventListener("click", () => open(c.conversation_id).catch(() => {}));
      return item;
    });
    if (data.conversation) items.unshift(conversationItem(data.conversation));
    list.replaceChildren(...(items.length ? items : [el("li", ui("search_none", { query }))]));
  } catch (error) {
    list.replaceChildren(el("li", error.message));
  }
  list.hidden = false;
});
$("search-q").addEventListener("keydown", (event) => {
  if (event.key === "Escape") {
    event.preventDefault(); // only the search closes, not the open conversation
    $("search-q").value = "";
    $("search-results").hidden = true;
  }
});

// --- canned replies: "/" at the start of the reply box, then letters to filter -------------

let canned = { replies: [] }; // GET .../canned for the open conversation (filled in)
let cannedShown = [];
let cannedIndex = 0;

async function loadCanned(id) {
  try {
    canned = await api(`/api/agent/conversations/${encodeURIComponent(id)}/canned`);
  } catch (error) {
    canned = { replies: [] };
  }
}

function cannedQuery() {
  const value = $("reply-text").value;
  return /^\/[^\n]*$/.test(value) ? value.slice(1).trim().toLowerCase() : null;
}

function closeCanned() {
  $("canned").hidden = true;
  $("reply-text").setAttribute("aria-expanded", "false");
  cannedShown = [];
}

function renderCanned() {
  const query = cannedQuery();
  if (query === null) return closeCanned();
  const title = (r) => r.title[lang] || r.title.en;
  cannedShown = canned.replies.filter((r) => !query ||
    [r.id, title(r), r.text].some((words) => words.toLowerCase().includes(query)));
  cannedIndex = Math.min(cannedIndex, Math.max(cannedShown.length - 1, 0));
  const items = cannedShown.map((reply, index) => {
    const item = el("li");
    item.setAttribute("role", "option");
    item.setAttribute("aria-selected", String(index === cannedIndex));
    item.dataset.id = reply.id;
    item.append(el("span", `/${reply.id} · ${title(reply)}`, "canned-title"), el("span", reply.text, "canned-text"));
    if (reply.missing.length) {
      item.append(el("span", ui("canned_missing", { fields: reply.missing.map((f) => `{${f}}`).join(", ") }), "canned-text"));
    }
    item.addEventListener("mousedown", (event) => {
      event.preventDefault(); // keep the focus in the reply box
      insertCanned(reply);
    });
    return item;
  });
  if (!items.length) items.push(el("li", ui("canned_none", { query })));
  $("canned").replaceChildren(...items);
  $("canned").hidden = false;
  $("reply-text").setAttribute("aria-expanded", "true");
}

// The reply goes into the box (not sent): the agent reads it, and types over the first
// placeholder the conversation could not fill, which is selected.
function insertCanned(reply) {
  const box = $("reply-text");
  box.value = reply.text;
  closeCanned();
  box.focus();
  const gap = reply.missing.length ? box.value.indexOf(`{${reply.missing[0]}}`) : -1;
  if (gap >= 0) box.setSelectionRange(gap, gap + reply.missing[0].length + 2);
  else box.setSelectionRange(box.value.length, box.value.length);
}

$("reply-text").addEventListener("input", () => {
  cannedIndex = 0;
  renderCanned();
});
$("reply-text").addEventListener("blur", closeCanned);
$("reply-text").addEventListener("keydown", (event) => {
  const open = !$("canned").hidden;
  if (open && (event.key === "ArrowDown" || event.key === "ArrowUp") && cannedShown.length) {
    event.preventDefault();
    const step = event.key === "ArrowDown" ? 1 : -1;
    cannedIndex = (cannedIndex + step + cannedShown.length) % cannedShown.length;
    renderCanned();
    $("canned").children[cannedIndex].scrollIntoView({ block: "nearest" });
  } else if (open && (event.key === "Enter" || event.key === "Tab") && cannedShown.length) {
    event.preventDefault();
    insertCanned(cannedShown[cannedIndex]);
  } else if (event.key === "Escape" && open) {
    event.preventDefault();
    event.stopPropagation();
    closeCanned();
  } else if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
    event.preventDefault(); // Enter sends, Shift+Enter adds a line
    $("reply").requestSubmit();
  }
});
$("add-note").addEventListener("submit", async (event) => {
  event.preventDefault();
  const text = $("note-text").value.trim();
  if (!text) return;
  if (await act("notes", { text })) $("note-text").value = "";
});
$("logout").addEventListener("click", async () => {
  await api("/api/agent/logout", { method: "POST" });
  window.location.href = "/agent/login";
});
$("filter-owner").addEventListener("change", renderQueue);
$("filter-channel").addEventListener("change", renderQueue);
$("console-lang").addEventListener("change", () => {
  lang = $("console-lang").value === "vi" ? "vi" : "en";
  localStorage.setItem(LANG_KEY, lang);
  applyLabels();
  renderQueue();
  renderTasks();
  if (current) render(current);
});

function connect(delay = 500) {
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
      if (selected) open(selected);
    }
    if (data.type === "transfer" && data.to === me) {
      alertAgent(ui("alert_transfer"), data.conversation_id);
      loadQueue();
    }
    if (data.type !== "message") return;
    const message = data.message || {};
    if (data.conversation_id === selected) {
      $("transcript").append(transcriptItem(message));
      if (current) current.transcript.push(message);
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

// Esc closes what is open: the canned list (handled in the reply box), the search
// results, then the open conversation.
document.addEventListener("keydown", (event) => {
  if (event.key !== "Escape" || event.defaultPrevented) return;
  if (!$("search-results").hidden) {
    $("search-results").hidden = true;
  } else if (!$("detail").hidden) {
    selected = null;
    current = null;
    $("detail").hidden = true;
    $("empty").hidden = false;
    renderQueue();
  }
});

loadLabels().then(loadQueue).then(loadTasks).then(() => connect());
setInterval(() => loadQueue().catch(() => {}), 15000);
setInterval(() => loadTasks().catch(() => {}), 15000);
setInterval(updateTimers, 1000);
