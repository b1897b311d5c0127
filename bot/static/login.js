document.getElementById("login").addEventListener("submit", async (event) => {
  event.preventDefault();
  const form = new FormData(event.target);
  const response = await fetch("/api/agent/login", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ name: form.get("name"), password: form.get("password") }),
  });
  if (response.ok) {
    window.location.href = "/agent";
  } else {
    const body = await response.json().catch(() => ({}));
    document.getElementById("error").textContent = body.error || "Sign-in failed";
  }
});
