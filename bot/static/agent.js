// Agent console. Everything a customer wrote is shown with textContent, never as HTML.
"use strict";

const $ = (id) => document.getElementById(id);
let selected = null;
let me = "";

function el(tag, text, className) {
  const node = document.createElement(tag);
  if (text !== undefined && text !== null) node.textContent = String(text);
  if (className) node.className = className;
  return node;
}

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

function waited(since) {
  if (!since) return "";
  const seconds = Math.max(0, Math.round(Date.now() / 1000 - since));
  return seconds < 60 ? `${seconds}s` : `${Math.floor(seconds / 60)}m ${seconds % 60}s`;
}

function conversationItem(conv) {
  const item = el("li");
  item.dataset.id = conv.id;
  if (conv.id === selected) item.classList.add("selected");
  const top = el("div");
  top.append(el("span", conv.severity, `sev sev-${conv.severity}`), " ",
    el("span", `${conv.channel} · ${conv.trust} · ${conv.language} · waiting ${waited(conv.queued_at)}`, "line"));
  item.append(top, el("div", conv.summary || conv.reason || conv.id, "line"));
  if (conv.followup) item.append(el("div", `asked for a ${conv.followup} follow-up`, "line"));
  item.addEventListener("click", () => open(conv.id));
  return item;
}

function callbackItem(task) {
  const item = el("li");
  item.dataset.id = task.conversation_id;
  const top = el("div");
  top.append(el("span", "call back", "badge callback"), " ",
    el("span", `${task.phone} · ${task.day} ${task.from}–${task.to} · ${task.language}`, "line"));
  item.append(top, el("div", task.summary || task.case_ref || task.conversation_id, "line"));
  if (task.attempts) item.append(el("div", `no answer ×${task.attempts}`, "line"));
  const actions = el("div", null, "callback-actions");
  for (const [outcome, label] of [["done", "Done"], ["no_answer", "No answer"]]) {
    const button = el("button", label);
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

async function loadQueue() {
  const data = await api("/api/agent/queue");
  me = data.agent;
  $("whoami").textContent = `Signed in as ${me}`;
  $("queue").replaceChildren(...data.queue.map(conversationItem));
  $("mine").replaceChildren(...data.mine.map(conversationItem));
  $("queue-count").textContent = `(${data.queue.length})`;
  const tasks = await api("/api/agent/callbacks");
  $("callbacks").replaceChildren(...tasks.callbacks.map(callbackItem));
  $("callback-count").textContent = `(${tasks.callbacks.length})`;
}

function addContext(list, label, value) {
  if (value === undefined || value === null || value === "" ||
      (Array.isArray(value) && value.length === 0)) return;
  list.append(el("dt", label), el("dd", typeof value === "string" ? value : JSON.stringify(value, null, 1)));
}

function renderContext(conv) {
  const p = conv.packet || {};
  const list = $("context");
  list.replaceChildren();
  addContext(list, "Handed over because", p.reason);
  addContext(list, "Summary", (p.summary || {}).en);
  if (p.language && p.language !== "en") addContext(list, `Summary (${p.language})`, (p.summary || {})[p.language]);
  addContext(list, "Complaint", (p.intents || []).join(", "));
  const details = Object.entries(p.details || {}).map(([k, v]) => `${k}: ${v}`).join("\n");
  addContext(list, "Known details (never ask again)", details || "none yet");
  if (p.order) {
    const items = (p.order.items || {}).en || "";
    addContext(list, "Order", `${p.order.order_id}: ${items}, ${p.order.status}, ${p.order.value} VND, ${p.order.carrier || ""}`);
  }
  const severity = p.severity || {};
  addContext(list, "Severity", `${severity.level || conv.severity}${(severity.reasons || []).length ? " (" + severity.reasons.join("; ") + ")" : ""}`);
  addContext(list, "Remedies offered", (p.remedies || []).map((r) => `${r.remedy}: ${r.answer}`).join("\n") || "none");
  addContext(list, "Customer history", ((p.customer || {}).history || []).map((c) => `${c.case_ref} ${c.complaint_type || ""} (${c.status})`).join("\n"));
  addContext(list, "Case", p.case_ref);
  addContext(list, "Follow-up wanted", conv.followup);
  addContext(list, "Note", conv.note);
}

function transcriptItem(entry) {
  const item = el("li", null, `from-${entry.from}`);
  // A payload ("/request_human", '/choose_remedy{"remedy": "refund"}') was a button press.
  const payload = entry.from === "customer" && /^\/[a-z_]+/.test(entry.text || "");
  const shown = payload ? `[pressed: ${entry.text.slice(1)}]` : entry.text;
  item.append(el("span", entry.from, "who"), el("span", shown || (entry.data && entry.data.buttons ? "[buttons]" : "")));
  const buttons = (entry.data && entry.data.buttons) || [];
  if (buttons.length) item.append(el("span", buttons.map((b) => `[${b.title}]`).join(" "), "who"));
  return item;
}

async function open(id) {
  selected = id;
  const conv = await api(`/api/agent/conversations/${encodeURIComponent(id)}`);
  $("empty").hidden = true;
  $("detail").hidden = false;
  $("conv-title").textContent = `Conversation ${conv.id}`;
  let window24 = "";
  if (conv.window) {
    const until = (t) => (t ? new Date(t * 1000).toLocaleString() : "");
    window24 = {
      open: ` · Messenger window open until ${until(conv.window.response_until)}`,
      human_agent_only: ` · Messenger: 24 h passed, agent replies (HUMAN_AGENT) until ${until(conv.window.human_agent_until)}`,
      closed: " · Messenger window closed: no replies possible",
    }[conv.window.state];
  }
  $("conv-meta").textContent = `${conv.state}${conv.agent ? " · " + conv.agent : ""} · ${conv.channel} · ${conv.trust}${conv.shop_customer ? " " + conv.shop_customer : ""} · ${conv.language}${window24}`;
  $("claim").disabled = conv.state !== "queued";
  const mine = conv.state === "agent" && conv.agent === me;
  for (const button of ["handback", "resolve"]) $(button).disabled = !mine;
  $("reply-text").disabled = !mine;
  renderContext(conv);
  $("transcript").replaceChildren(...conv.transcript.map(transcriptItem));
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
  } catch (error) {
    $("action-error").textContent = error.message;
  }
}

$("claim").addEventListener("click", () => act("claim"));
$("resolve").addEventListener("click", () => act("resolve", { note: $("note").value }));
$("handback").addEventListener("click", () => act("handback", { note: $("note").value }));
$("reply").addEventListener("submit", async (event) => {
  event.preventDefault();
  const text = $("reply-text").value.trim();
  if (!text) return;
  await act("messages", { text });
  $("reply-text").value = "";
});
$("logout").addEventListener("click", async () => {
  await api("/api/agent/logout", { method: "POST" });
  window.location.href = "/agent/login";
});

function connect(delay = 500) {
  const scheme = window.location.protocol === "https:" ? "wss" : "ws";
  const socket = new WebSocket(`${scheme}://${window.location.host}/api/agent/ws`);
  socket.addEventListener("open", () => {
    $("live").textContent = "live";
    $("live").classList.add("ok");
    delay = 500;
    loadQueue();
  });
  socket.addEventListener("message", (event) => {
    const data = JSON.parse(event.data);
    if (data.type === "queue") loadQueue();
    if (data.type === "message" && data.conversation_id === selected) {
      $("transcript").append(transcriptItem(data.message));
    }
  });
  socket.addEventListener("close", () => {
    $("live").textContent = "reconnecting…";
    $("live").classList.remove("ok");
    setTimeout(() => connect(Math.min(delay * 2, 10000)), delay);
  });
}

loadQueue().then(() => connect());
setInterval(() => loadQueue().catch(() => {}), 15000);
