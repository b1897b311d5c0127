// The unmodified rasa-webchat widget, talking socket.io to the hub on this origin.
//
// Demo sign-in: when the hub runs with HUB_DEMO, GET /demo/identity returns the demo
// customer signed by the hub (a real shop's server signs its logged-in customer the
// same way) and the page offers a "Signed in as ... (demo)" toggle. The signed identity
// travels in the widget's customData. Toggling starts a fresh widget conversation, so a
// signed-out visitor never continues a signed-in one.
const SIGNED_IN = "demo-signed-in";
const WIDGET_SESSION = "chat_session"; // where rasa-webchat keeps its session (storage "local")

function startWidget(customData) {
  window.WebChat.default({
    initPayload: "/greet",
    socketUrl: window.location.origin,
    socketPath: "/socket.io/",
    title: "Mộc Home help",
    subtitle: "English · Tiếng Việt",
    inputTextFieldHint: "Type a message / Nhập tin nhắn…",
    params: { storage: "local" },
    customData,
  }, null);
}

async function demoIdentity() {
  try {
    const response = await fetch("/demo/identity", { cache: "no-store" });
    return response.ok ? await response.json() : null;
  } catch (error) {
    return null;
  }
}

function forgetWidgetSession() {
  localStorage.removeItem(WIDGET_SESSION);
}

async function main() {
  const demo = await demoIdentity();
  if (demo === null && localStorage.getItem(SIGNED_IN) === "1") {
    localStorage.removeItem(SIGNED_IN); // the demo was turned off: no signed-in session goes on
    forgetWidgetSession();
  }
  const signedIn = demo !== null && localStorage.getItem(SIGNED_IN) === "1";
  if (demo !== null) {
    document.getElementById("demo-name").textContent = demo.name;
    const toggle = document.getElementById("demo-signed-in");
    toggle.checked = signedIn;
    toggle.addEventListener("change", () => {
      localStorage.setItem(SIGNED_IN, toggle.checked ? "1" : "0");
      forgetWidgetSession();
      window.location.reload();
    });
    document.getElementById("demo-sign-in").hidden = false;
  }
  startWidget(signedIn ? { shop_identity: demo.shop_identity } : {});
}

main();
