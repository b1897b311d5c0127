// Agent console (bot/static/agent.html): its start, the page's own words, and the few
// controls that reach across the other modules. Everything a customer wrote is shown
// with textContent, never as HTML.

import { updateNotifyButton, updateTitle } from "./alerts.js";
import { api } from "./api.js";
import { closeConversation, render } from "./conversation.js";
import { $ } from "./dom.js";
import { renderHelp } from "./help_search.js";
import { lang, loadLabels, setLang, t, ui } from "./labels.js";
import { connect } from "./live.js";
import { loadQueue, renderQueue, updateTimers } from "./queue.js";
import { session } from "./session.js";
import { loadTasks, renderTasks } from "./tasks.js";

// agent.html's words: data-label names ui.<key> for textContent, data-placeholder and
// data-aria-label their attributes; the page's English stays when a key is missing.
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
  for (const node of document.querySelectorAll("[data-language]")) {
    node.textContent = t("languages", node.dataset.language, null, node.textContent);
  }
  $("console-lang").value = lang;
  $("live").textContent = $("live").classList.contains("ok") ? ui("live", null, "live") : ui("connecting", null, "connecting…");
  if (session.me) $("whoami").textContent = ui("signed_in_as", { agent: session.me }, `Signed in as ${session.me}`);
  updateNotifyButton();
  updateTitle();
}

$("logout").addEventListener("click", async () => {
  await api("/api/agent/logout", { method: "POST" });
  window.location.href = "/agent/login";
});
$("filter-owner").addEventListener("change", renderQueue);
$("filter-channel").addEventListener("change", renderQueue);
$("console-lang").addEventListener("change", () => {
  setLang($("console-lang").value);
  applyLabels();
  renderQueue();
  renderTasks();
  renderHelp();
  if (session.current) render(session.current);
});

// Esc closes what is open: the canned list (handled in the reply box), the search
// results, then the open conversation.
document.addEventListener("keydown", (event) => {
  if (event.key !== "Escape" || event.defaultPrevented) return;
  if (!$("search-results").hidden) {
    $("search-results").hidden = true;
  } else if (!$("detail").hidden) {
    closeConversation();
  }
});

loadLabels().then(applyLabels).then(loadQueue).then(loadTasks).then(() => connect());
setInterval(() => loadQueue().catch(() => {}), 15000);
setInterval(() => loadTasks().catch(() => {}), 15000);
setInterval(updateTimers, 1000);
