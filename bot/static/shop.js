// The unmodified rasa-webchat widget, talking socket.io to the hub on this origin.
window.WebChat.default({
  initPayload: "/greet",
  socketUrl: window.location.origin,
  socketPath: "/socket.io/",
  title: "Mộc Home help",
  subtitle: "English · Tiếng Việt",
  inputTextFieldHint: "Type a message / Nhập tin nhắn…",
  params: { storage: "local" },
}, null);
