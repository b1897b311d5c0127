// The unmodified rasa-webchat widget, talking socket.io to the hub on this origin.
//
// Catch-up (bot/channels/widget_delivery.py): each bot_uttered carries metadata.message_id. The widget
// shows a turn's messages one after another, so a message received is not yet a
// message shown: it counts as shown once rasa-webchat has stored it in its own history
// (localStorage "chat_session"). The last id shown is kept in localStorage
// ("sr_last_shown") and acknowledged to the hub (`seen`); on every (re)connect the page
// sends `catch_up {after}` right after the widget's session_request, and the hub sends
// again what was never shown.
//
// A link from a follow-up email carries ?resume=TOKEN (bot/aftercare/resume.py): the page trades
// it for the conversation's session id before the widget starts, and drops it from
// the address bar.
//
// Demo sign-in: when the hub runs with HUB_DEMO, GET /demo/identity returns the demo
// customer signed by the hub (a real shop's server signs its logged-in customer the
// same way) and the page offers a "Signed in as ... (demo)" toggle. The signed identity
// travels in the widget's customData, with the page's language (`lang`). Toggling
// starts a fresh widget conversation, so a signed-out visitor never continues a
// signed-in one.
(function () {
  var SHOWN_KEY = "sr_last_shown";
  var SIGNED_IN = "demo-signed-in";
  var WIDGET_SESSION = "chat_session"; // where rasa-webchat keeps its session (storage "local")
  var socket = null;
  var expected = null; // how many bot messages the widget will have shown after the last received
  var pending = []; // received, not yet shown: [{id, at}]

  function stored() {
    try {
      return JSON.parse(window.localStorage.getItem(WIDGET_SESSION)) || {};
    } catch (e) {
      return {};
    }
  }

  function shownCount() {
    return (stored().conversation || []).filter(function (m) {
      return m.sender === "response";
    }).length;
  }

  function lastShown(sessionId) {
    try {
      var record = JSON.parse(window.localStorage.getItem(SHOWN_KEY)) || {};
      return record.session_id === sessionId ? record.id : null;
    } catch (e) {
      return null;
    }
  }

  function check() {
    if (!pending.length) return;
    var shown = shownCount();
    var last = null;
    while (pending.length && pending[0].at <= shown) last = pending.shift().id;
    if (last === null) return;
    window.localStorage.setItem(SHOWN_KEY, JSON.stringify({ session_id: stored().session_id, id: last }));
    if (socket && socket.connected) socket.emit("seen", { message_id: last });
  }

  window.setInterval(check, 250);
  window.addEventListener("pagehide", check); // a reload or a close records the last shown at once

  function reopen(sessionId) {
    if (stored().session_id === sessionId) return;
    // Another browser (or a cleared one): start from an empty history, and have the hub
    // send every message of the conversation.
    // The widget takes its params from here as they are: keep it visible.
    window.localStorage.setItem(WIDGET_SESSION, JSON.stringify({
      session_id: sessionId, version: "1.0.1", params: { isChatVisible: true, isChatOpen: false },
    }));
    window.localStorage.setItem(SHOWN_KEY, JSON.stringify({ session_id: sessionId, id: "0-0" }));
  }

  var token = new URLSearchParams(window.location.search).get("resume");
  if (!token) {
    start();
    return;
  }
  window.history.replaceState(null, "", window.location.pathname);
  window.fetch("/api/widget/resume", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ token: token }),
  }).then(function (response) {
    return response.ok ? response.json() : null;
  }).then(function (answer) {
    if (answer && answer.session_id) reopen(answer.session_id);
  }).catch(function () {}).then(start);

  function demoIdentity() {
    return window.fetch("/demo/identity", { cache: "no-store" }).then(function (response) {
      return response.ok ? response.json() : null;
    }).catch(function () {
      return null;
    });
  }

  function forgetWidgetSession() {
    window.localStorage.removeItem(WIDGET_SESSION);
    window.localStorage.removeItem(SHOWN_KEY);
  }

  function start() {
    demoIdentity().then(function (demo) {
      if (demo === null && window.localStorage.getItem(SIGNED_IN) === "1") {
        window.localStorage.removeItem(SIGNED_IN); // the demo was turned off: no signed-in session goes on
        forgetWidgetSession();
      }
      var signedIn = demo !== null && window.localStorage.getItem(SIGNED_IN) === "1";
      if (demo !== null) {
        document.getElementById("demo-name").textContent = demo.name;
        var toggle = document.getElementById("demo-signed-in");
        toggle.checked = signedIn;
        toggle.addEventListener("change", function () {
          window.localStorage.setItem(SIGNED_IN, toggle.checked ? "1" : "0");
          forgetWidgetSession();
          window.location.reload();
        });
        document.getElementById("demo-sign-in").hidden = false;
      }
      // The page's language (<html lang>) goes with every message: the assistant greets
      // in it until the customer writes in another.
      var data = { lang: (document.documentElement.lang || "en").slice(0, 2) };
      if (signedIn) data.shop_identity = demo.shop_identity;
      startWidget(data);
    });
  }

  function startWidget(customData) {
    window.WebChat.default({
      initPayload: "/greet",
      // WebSocket only, from the first connection on: one connection to one hub, so any
      // hub serves any widget with no sticky sessions (long-polling's requests would land
      // on different hubs). rasa-webchat 1.0.1 gives socket.io-client only {path} (its
      // protocolOptions reach its sockjs protocol alone) but hands socketUrl over as
      // io()'s first argument, and io(options) connects to this page's origin.
      socketUrl: { path: "/socket.io/", transports: ["websocket"] },
      socketPath: "/socket.io/",
      title: "Mộc Home help",
      subtitle: "English · Tiếng Việt",
      inputTextFieldHint: "Type a message / Nhập tin nhắn…",
      params: { storage: "local" },
      customData: customData,
      onSocketEvent: {
        // socket.io calls these with the socket as `this`. Not session_confirm: the
        // widget's own handler for it (which makes the widget visible) would be replaced.
        // rasa-webchat's connect handler has just sent session_request.
        connect: function () {
          socket = this;
          if (expected === null) expected = shownCount();
          socket.emit("catch_up", { after: lastShown(stored().session_id) });
        },
        bot_uttered: function (message) {
          expected += 1;
          var id = message && message.metadata && message.metadata.message_id;
          if (id) pending.push({ id: id, at: expected });
        },
      },
    }, null);
  }
})();
