// The customer panel (who they are, their earlier cases with outcome and CSAT, a proof
// lock) and the search over cases, orders, emails and phones.

import { api } from "./api.js";
import { act, openConversation } from "./conversation.js";
import { $, el } from "./dom.js";
import { lang, t, ui } from "./labels.js";
import { conversationItem } from "./queue.js";
import { complaintWords } from "./readable.js";

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

export async function loadPanel(id) {
  try {
    const data = await api(`/api/agent/conversations/${encodeURIComponent(id)}/customer`);
    $("panel-who").textContent = whoLine(data.customer);
    const items = data.cases.map((c) => {
      const item = el("li", caseLine(c) + (c.current ? ` (${ui("this_conversation")})` : ""), c.current ? "current" : "");
      if (c.conversation_id && !c.current) {
        item.tabIndex = 0;
        item.addEventListener("click", () => openConversation(c.conversation_id).catch(() => {}));
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
      if (c.conversation_id) item.addEventListener("click", () => openConversation(c.conversation_id).catch(() => {}));
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
