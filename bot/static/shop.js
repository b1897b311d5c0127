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
// the address bar. A page that already holds another conversation sends its own id, and
// when the hub says so (409 {ask}) asks the customer before switching: a link someone
// else sent never moves a customer into their conversation unawares.
//
// The owner's one-time link carries ?prove=TOKEN (bot/aftercare/owner_link.py): the page
// posts it with its own session id (it works only in the browser holding that
// conversation), keeps its history and takes the new, rotated id.
//
// "End chat" revokes the session id on the hub (POST /api/widget/end) and forgets it here,
// so the next person at this computer starts a new conversation. The hub may also rotate
// the id (session_confirm) when the conversation proves who the customer is: the widget
// stores the new id itself.
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

  function endChatShown() {
    document.getElementById("end-chat").hidden = !stored().session_id;
  }

  window.setInterval(function () {
    check();
    endChatShown();
  }, 250);
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

  function post(url, body) {
    return window.fetch(url, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body),
    }).then(function (response) {
      return response.json().catch(function () {
        return {};
      }).then(function (answer) {
        return { status: response.status, body: answer || {} };
      });
    });
  }

  function askToSwitch() {
    // This page holds another conversation: the customer chooses.
    var dialog = document.getElementById("resume-ask");
    dialog.hidden = false;
    return new Promise(function (resolve) {
      document.getElementById("resume-open").onclick = function () {
        dialog.hidden = true;
        resolve(true);
      };
      document.getElementById("resume-keep").onclick = function () {
        dialog.hidden = true;
        resolve(false);
      };
    });
  }

  function resume(token, replace) {
    return post("/api/widget/resume", {
      token: token, session_id: stored().session_id || null, replace: replace,
    }).then(function (answer) {
      if (answer.status === 409 && answer.body.ask) {
        return askToSwitch().then(function (yes) {
          return yes ? resume(token, true) : null;
        });
      }
      if (answer.status === 200 && answer.body.session_id) reopen(answer.body.session_id);
      return null;
    });
  }

  function keepHistoryUnder(sessionId) {
    // The same conversation under a new id (a verification): its history, and what it
    // has shown, stay.
    var session = stored();
    var shown = lastShown(session.session_id);
    session.session_id = sessionId;
    window.localStorage.setItem(WIDGET_SESSION, JSON.stringify(session));
    window.localStorage.setItem(SHOWN_KEY, JSON.stringify({ session_id: sessionId, id: shown }));
  }

  function prove(token) {
    return post("/api/widget/prove", { token: token, session_id: stored().session_id || null }).then(function (answer) {
      if (answer.status === 200 && answer.body.session_id) {
        keepHistoryUnder(answer.body.session_id);
        return;
      }
      document.getElementById(answer.status === 409 ? "prove-elsewhere" : "prove-invalid").hidden = false;
    });
  }

  function endChat() {
    var sessionId = stored().session_id;
    var restart = function () {
      forgetWidgetSession();
      window.location.reload();
    };
    if (!sessionId) return restart();
    post("/api/widget/end", { session_id: sessionId }).then(restart, restart);
  }

  document.getElementById("end-chat").addEventListener("click", endChat);

  var query = new URLSearchParams(window.location.search);
  var resumeToken = query.get("resume");
  var proveToken = query.get("prove");
  if (!resumeToken && !proveToken) {
    start();
    return;
  }
  window.history.replaceState(null, "", window.location.pathname);
  (resumeToken ? resume(resumeToken, false) : prove(proveToken)).catch(function () {}).then(start);

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
