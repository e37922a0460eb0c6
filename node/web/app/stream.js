// stream.js - live events over the node's streaming API: one WebSocket
// to /api/v1/streaming, signed in by the session cookie (the node checks
// that the page is its own), subscribed to the user stream (home timeline
// and notifications) and the public stream of all sites. Events come as
// Mastodon sends them: {"stream": [...], "event": "update", "payload":
// "<JSON text>"}. A cut connection is opened again after a delay that
// doubles up to 30 s; onReconnect lets the page fetch what it missed.

const MAX_DELAY = 30000;

// handlers: {onEvent(event, payload, stream), onState(live), onReconnect()}
export function startStream(handlers) {
  let socket = null;
  let delay = 1000;
  let timer = 0;
  let stopped = false;
  let opened = false;

  function url() {
    const scheme = location.protocol === "https:" ? "wss:" : "ws:";
    return `${scheme}//${location.host}/api/v1/streaming?stream=user`;
  }

  function onMessage(e) {
    let msg;
    try {
      msg = JSON.parse(e.data);
    } catch {
      return;
    }
    if (!msg || !msg.event) return;
    let payload = msg.payload;
    if (typeof payload === "string" && msg.event !== "delete") {
      try {
        payload = JSON.parse(payload);
      } catch {
        return;
      }
    }
    const stream = Array.isArray(msg.stream) ? msg.stream[0] : msg.stream;
    handlers.onEvent(msg.event, payload, stream);
  }

  function connect() {
    if (stopped) return;
    socket = new WebSocket(url());
    socket.addEventListener("open", () => {
      socket.send(JSON.stringify({ type: "subscribe", stream: "public" }));
      delay = 1000;
      handlers.onState(true);
      if (opened) handlers.onReconnect();
      opened = true;
    });
    socket.addEventListener("message", onMessage);
    socket.addEventListener("close", () => {
      handlers.onState(false);
      if (stopped) return;
      timer = window.setTimeout(connect, delay);
      delay = Math.min(delay * 2, MAX_DELAY);
    });
  }

  connect();
  return {
    stop() {
      stopped = true;
      window.clearTimeout(timer);
      if (socket) socket.close();
    },
  };
}
