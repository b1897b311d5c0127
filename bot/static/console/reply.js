// The reply box (Enter sends, Shift+Enter adds a line), its canned replies ("/" at the
// start of the box, then letters to filter) and the internal note box.

import { api } from "./api.js";
import { act } from "./conversation.js";
import { $, el } from "./dom.js";
import { lang, ui } from "./labels.js";

let canned = { replies: [] }; // GET .../canned for the open conversation (filled in)
let cannedShown = [];
let cannedIndex = 0;

// Each conversation keeps its own unsent reply: opening another conversation never
// carries a draft to the wrong customer (Enter would send it there).
const drafts = new Map();

export function switchDraft(from, to) {
  if (from === to) return;
  const box = $("reply-text");
  if (from && box.value.trim()) drafts.set(from, box.value);
  else if (from) drafts.delete(from);
  box.value = (to && drafts.get(to)) || "";
  closeCanned();
}

export async function loadCanned(id) {
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

$("reply").addEventListener("submit", async (event) => {
  event.preventDefault();
  closeCanned();
  const text = $("reply-text").value.trim();
  if (!text) return;
  if (await act("messages", { text })) $("reply-text").value = "";
});
$("reply-text").addEventListener("input", () => {
  cannedIndex = 0;
  renderCanned();
});
$("reply-text").addEventListener("blur", closeCanned);
$("reply-text").addEventListener("keydown", (event) => {
  const listOpen = !$("canned").hidden;
  if (listOpen && (event.key === "ArrowDown" || event.key === "ArrowUp") && cannedShown.length) {
    event.preventDefault();
    const step = event.key === "ArrowDown" ? 1 : -1;
    cannedIndex = (cannedIndex + step + cannedShown.length) % cannedShown.length;
    renderCanned();
    $("canned").children[cannedIndex].scrollIntoView({ block: "nearest" });
  } else if (listOpen && (event.key === "Enter" || event.key === "Tab") && cannedShown.length) {
    event.preventDefault();
    insertCanned(cannedShown[cannedIndex]);
  } else if (event.key === "Escape" && listOpen) {
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
