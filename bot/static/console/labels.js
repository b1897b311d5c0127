// The console's words: data/hub/console.yml (GET /api/agent/labels), in the agent's
// language (stored in localStorage); the few fallbacks here only cover a failed load.

import { api } from "./api.js";

const LANG_KEY = "console.lang";
export const FALLBACK_TARGETS = { critical: 2, high: 5, medium: 15, low: 60, unknown: 15 };
let labels = {};
// First-response targets in minutes, by severity (console.yml's first_response_minutes).
export let targets = FALLBACK_TARGETS;
// Exported bindings are live: importers always read the current language.
export let lang = localStorage.getItem(LANG_KEY) === "vi" ? "vi" : "en";

export function setLang(value) {
  lang = value === "vi" ? "vi" : "en";
  localStorage.setItem(LANG_KEY, lang);
}

export async function loadLabels() {
  try {
    const data = await api("/api/agent/labels");
    labels = data.labels || {};
    targets = data.first_response_minutes || FALLBACK_TARGETS;
  } catch (error) {
    labels = {}; // the fallbacks in the page and here still make a usable console
  }
}

function fill(template, values) {
  return String(template).replace(/\{(\w+)\}/g, (whole, name) =>
    (values && values[name] !== undefined && values[name] !== null ? String(values[name]) : whole));
}

// A label in the agent's language: labels[group][key][lang], else English, else `fallback`.
export function t(group, key, values, fallback) {
  const entry = (labels[group] || {})[key];
  const text = entry ? (entry[lang] || entry.en) : (fallback !== undefined ? fallback : key);
  return fill(text, values);
}

export function ui(key, values, fallback) {
  return t("ui", key, values, fallback);
}
