// Readable pieces: codes and numbers from the API in the agent's words.

import { el } from "./dom.js";
import { FALLBACK_TARGETS, t, ui } from "./labels.js";

export function waited(since) {
  return duration(Date.now() / 1000 - since);
}

export function duration(span) {
  const seconds = Math.max(0, Math.round(span));
  const d = Math.floor(seconds / 86400);
  if (d) return `${d}d ${Math.floor((seconds % 86400) / 3600)}h`;
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  return h ? `${h}h ${m}m` : m ? `${m}m ${String(s).padStart(2, "0")}s` : `${s}s`;
}

export function severityBadge(level) {
  const known = level in FALLBACK_TARGETS ? level : "unknown";
  return el("span", t("severity_levels", known, null, known), `sev sev-${known}`);
}

// The packet's severity reason codes in words; "base" (the playbook's starting point)
// is not shown.
export function severityPhrases(reasons) {
  const phrases = [];
  for (const code of reasons || []) {
    if (code === "base") continue;
    const phrase = t("severity_reasons", code, null, String(code));
    if (!phrases.includes(phrase)) phrases.push(phrase);
  }
  return phrases;
}

export function complaintWords(type) {
  return t("complaint_types", type || "unknown", null, type || t("complaint_types", "unknown"));
}

export function reasonWords(reason) {
  return reason ? t("reasons", reason, null, reason) : t("reasons", "unknown", null, "");
}

export function remedyWords(r) {
  return `${t("remedies", r.remedy, null, r.remedy)} (${t("answers", r.answer, null, r.answer)})`;
}

function shortId(id) {
  return String(id || "").replace(/^(rest-|fb-)/, "").slice(-6);
}

// Who the customer is: their name once verified, else the channel and a short id.
export function customerName(conv, packet) {
  const customer = (packet && packet.customer) || {};
  const name = conv.customer_name || (customer.verified ? customer.name : "");
  if (name) return name;
  return ui("guest_short", { channel: t("channels", conv.channel, null, conv.channel), id: shortId(conv.id) },
    `${conv.channel} ${shortId(conv.id)}`);
}

export function trustWords(conv, packet) {
  const customer = (packet && packet.customer) || {};
  if (conv.shop_customer) return t("trust", "verified_by_shop_signature");
  if (customer.verified) return t("trust", `verified_by_${customer.verified_by}`, null, t("trust", "verified"));
  if (/Messenger/.test(conv.trust || "")) return t("trust", "messenger");
  if (/Zalo/.test(conv.trust || "")) return t("trust", "zalo");
  return t("trust", "guest", null, conv.trust || "guest");
}
