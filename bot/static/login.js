// Agent sign-in. Its words come from data/hub/console.yml (GET /api/agent/login/words),
// in the language the console is set to (localStorage, shared with the console page).
"use strict";

const LANG_KEY = "console.lang";
let lang = localStorage.getItem(LANG_KEY) === "vi" ? "vi" : "en";
let words = {};

function word(key, values, fallback) {
  const entry = words[key];
  const text = entry ? (entry[lang] || entry.en) : fallback;
  return String(text).replace(/\{(\w+)\}/g, (whole, name) => (values && name in values ? values[name] : whole));
}

function applyWords() {
  document.documentElement.lang = lang;
  document.getElementById("console-lang").value = lang;
  for (const node of document.querySelectorAll("[data-word]")) {
    node.textContent = word(node.dataset.word, null, node.textContent);
  }
  document.title = word("title", null, document.title);
}

fetch("/api/agent/login/words").then((r) => r.json()).then((data) => {
  words = data.words || {};
  applyWords();
}).catch(() => {}); // the English in the page stays

document.getElementById("console-lang").addEventListener("change", (event) => {
  lang = event.target.value === "vi" ? "vi" : "en";
  localStorage.setItem(LANG_KEY, lang);
  applyWords();
});

document.getElementById("login").addEventListener("submit", async (event) => {
  event.preventDefault();
  const form = new FormData(event.target);
  const error = document.getElementById("error");
  let response;
  try {
    response = await fetch("/api/agent/login", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ name: form.get("name"), password: form.get("password") }),
    });
  } catch (failure) {
    error.textContent = word("unavailable", null, "Sign-in is not available right now.");
    return;
  }
  if (response.ok) {
    window.location.href = "/agent";
  } else if (response.status === 429) {
    error.textContent = word("too_many", { seconds: response.headers.get("Retry-After") || "60" }, "Too many attempts.");
  } else if (response.status === 401) {
    error.textContent = word("failed", null, "Wrong name or password.");
  } else {
    error.textContent = word("unavailable", null, "Sign-in is not available right now.");
  }
});
