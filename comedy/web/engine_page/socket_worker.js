// The engine's WebSocket, in a Worker off the page's main thread: speech goes straight to the player
// worklet and the microphone straight from the capture worklet, so the page's rendering (Gradio
// redrawing the transcript) cannot hold either up. The main thread gets what it must show or say.
let ws = null;
let player = null;
let capture = null;

function now() {
  return performance.timeOrigin + performance.now(); // comparable with the main thread's clock
}

self.onmessage = (event) => {
  const d = event.data;
  if (d.ports) {
    [player, capture] = d.ports;
    capture.onmessage = (m) => {
      if (ws && ws.readyState === WebSocket.OPEN) ws.send(m.data);
    };
  } else if (d.connect) {
    open(d.connect);
  } else if (d.send) {
    if (ws && ws.readyState === WebSocket.OPEN) ws.send(d.send);
  } else if (d.close) {
    if (ws) ws.close();
  }
};

function open(url) {
  const socket = new WebSocket(url);
  socket.binaryType = "arraybuffer";
  ws = socket;
  socket.onopen = () => postMessage({ open: true });
  socket.onclose = (event) => {
    if (ws === socket) ws = null;
    postMessage({ close: event.code });
  };
  socket.onmessage = (event) => {
    if (typeof event.data === "string") {
      const message = JSON.parse(event.data);
      if (message.type === WIRE.CUT) player.postMessage({ cut: true, at: now() });
      else if (message.type === WIRE.HOLD) player.postMessage({ hold: true });
      else if (message.type === WIRE.RESUME) player.postMessage({ resume: true });
      else if (message.type === WIRE.END) player.postMessage({ end: message.item });
      postMessage({ text: message, at: now() });
      return;
    }
    const bytes = new Uint8Array(event.data);
    const size = bytes[0];
    const item = String.fromCharCode(...bytes.subarray(1, 1 + size));
    const pcm = event.data.slice(1 + size);
    player.postMessage({ item, pcm }, [pcm]);
  };
}
