// The shop's help pages beside the reply box (GET /api/agent/help): the best sections for
// a few words, in the open conversation's language (the agent may pick the other one);
// "Insert" puts a section's text and its absolute link into the reply box, not sent.

import { api } from "./api.js";
import { $, el } from "./dom.js";
import { ui } from "./labels.js";

let shownFor = null; // the conversation the search is set up for
let last = null; // { query, results } of the last search, shown again in a new console language

// The language of the help pages a conversation is answered from: the customer's.
function pagesLanguage(conv) {
  const languages = [...$("help-lang").options].map((option) => option.value);
  return languages.includes(conv.language) ? conv.language : languages[0];
}

// Called whenever the open conversation is shown (again at each of its updates): another
// conversation starts afresh in its customer's language; the same one keeps its results,
// untouched (an agent may be on one of them), their Insert following the reply box.
export function helpFor(conv) {
  if (conv.id === shownFor) {
    for (const button of $("help-results").querySelectorAll("button")) button.disabled = $("reply-text").disabled;
    return;
  }
  shownFor = conv.id;
  last = null;
  $("help-q").value = "";
  $("help-lang").value = pagesLanguage(conv);
  $("help-error").textContent = "";
  renderHelp();
}

// A path of the hub's (/help/en/refunds#...) as the customer can open it.
function absolute(link) {
  return new URL(link, window.location.origin).href;
}

// Into the reply box, after what is there (a blank line between); the agent sends it.
function insert(result) {
  const box = $("reply-text");
  const addition = `${result.text}\n${absolute(result.link)}`;
  const before = box.value.trimEnd();
  box.value = before ? `${before}\n\n${addition}` : addition;
  box.focus();
  box.setSelectionRange(box.value.length, box.value.length);
}

function resultItem(result) {
  const item = el("li", null, "help-result");
  item.dataset.link = result.link;
  item.append(el("span", `${result.title} · ${result.section}`, "help-where"), el("p", result.text, "help-text"));
  const actions = el("div", null, "help-actions");
  const button = el("button", ui("help_insert"));
  button.type = "button";
  button.disabled = $("reply-text").disabled; // only the agent who has the conversation replies
  button.addEventListener("click", () => insert(result));
  const open = el("a", ui("help_open"));
  open.href = absolute(result.link);
  open.target = "_blank";
  open.rel = "noopener";
  actions.append(button, open);
  item.append(actions);
  return item;
}

export function renderHelp() {
  const list = $("help-results");
  if (!last) {
    list.replaceChildren();
    list.hidden = true;
    return;
  }
  const items = last.results.map(resultItem);
  list.replaceChildren(...(items.length ? items : [el("li", ui("help_none", { query: last.query }), "help-none")]));
  list.hidden = false;
}

$("help-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const query = $("help-q").value.trim();
  $("help-error").textContent = "";
  if (!query) {
    last = null;
    return renderHelp();
  }
  const params = new URLSearchParams({ q: query, lang: $("help-lang").value });
  const asked = shownFor;
  try {
    const data = await api(`/api/agent/help?${params}`);
    if (asked !== shownFor) return; // another conversation was opened meanwhile
    last = { query, results: data.results };
  } catch (error) {
    if (asked !== shownFor) return;
    last = null;
    $("help-error").textContent = error.message;
  }
  renderHelp();
});
$("help-q").addEventListener("keydown", (event) => {
  if (event.key === "Escape" && last) {
    event.preventDefault(); // only the results close, not the open conversation
    last = null;
    renderHelp();
  }
});
