// The open conversation's context: the handoff packet in the agent's words, and the raw
// packet under "details".

import { $, el } from "./dom.js";
import { lang, t, ui } from "./labels.js";
import { complaintWords, customerName, reasonWords, remedyWords, severityBadge, severityPhrases, trustWords } from "./readable.js";

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

export function renderContext(conv) {
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
