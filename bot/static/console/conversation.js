// The open conversation: its header and actions (claim, hand back, resolve, release,
// transfer), its context and its transcript.

import { api } from "./api.js";
import { renderContext } from "./context.js";
import { loadPanel } from "./customer.js";
import { $, el } from "./dom.js";
import { helpFor } from "./help_search.js";
import { lang, t, ui } from "./labels.js";
import { loadQueue, renderQueue } from "./queue.js";
import { customerName, trustWords } from "./readable.js";
import { loadCanned, switchDraft } from "./reply.js";
import { session } from "./session.js";

export function transcriptItem(entry) {
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

export function render(conv) {
  renderMeta(conv);
  renderContext(conv);
  $("transcript").replaceChildren(...conv.transcript.map(transcriptItem));
}

export async function openConversation(id) {
  switchDraft(session.selected, id);
  session.selected = id;
  const conv = await api(`/api/agent/conversations/${encodeURIComponent(id)}`);
  session.current = conv;
  $("empty").hidden = true;
  $("detail").hidden = false;
  $("claim").disabled = conv.state !== "queued";
  const mine = conv.state === "agent" && conv.agent === session.me;
  for (const button of ["handback", "resolve", "release", "transfer", "transfer-to"]) $(button).disabled = !mine;
  if (mine) await loadColleagues();
  $("reply-text").disabled = !mine;
  helpFor(conv); // after the reply box: its Insert buttons follow whether the agent may reply
  if (mine) await loadCanned(id);
  render(conv);
  await loadPanel(id);
  $("action-error").textContent = "";
  await loadQueue();
}

// Esc with nothing else open: back to the empty pane.
export function closeConversation() {
  switchDraft(session.selected, null);
  session.selected = null;
  session.current = null;
  $("detail").hidden = true;
  $("empty").hidden = false;
  renderQueue();
}

// POSTs an action on the open conversation and shows it again; false (the error shown)
// when the hub refused it.
export async function act(path, body) {
  $("action-error").textContent = "";
  try {
    await api(`/api/agent/conversations/${encodeURIComponent(session.selected)}/${path}`, {
      method: "POST", body: JSON.stringify(body || {}),
    });
    await openConversation(session.selected);
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
