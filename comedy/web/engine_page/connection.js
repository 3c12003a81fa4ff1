// The engine's WebSocket (held by the socket Worker): a token from the server, the socket's news,
// reconnecting with a backoff, and the reports sent back (through a server function on the fallback).
function send(message) {
  if (E.open) {
    E.worker.postMessage({ send: JSON.stringify(message) });
  } else if (E.path === "gradio") {
    // The fallback reports through a server function: at most ten a second, plus every final one.
    const now = performance.now();
    if (message.type !== WIRE.PLAYED || message.final || now - (E.lastReport || 0) >= 100) {
      E.lastReport = now;
      server.engine_report(message);
    }
  }
}

function onSocket(event) {
  const d = event.data;
  if (d.open) {
    E.open = E.opened = true;
    E.retries = 0;
    E.connections++;
    E.path = "engine";
    sayPath();
  } else if (d.close !== undefined) {
    E.open = false;
    if (!E.opened) {
      fallBack(`the engine's WebSocket could not open, code ${d.close}`);
      return;
    }
    E.path = "reconnecting";
    E.retries++;
    say("The audio engine lost its connection: reconnecting…");
    const wait = Math.min(8000, 250 * 2 ** E.retries) * Math.random();
    setTimeout(() => connect().catch((err) => say(`The audio engine could not reconnect: ${err}`)), wait);
  } else if (d.text?.type === WIRE.REFUSED) {
    say(d.text.message);
  } else if (d.text?.type === WIRE.WORDS) {
    addWords(d.text.item, d.text.text, d.text.at);
  }
}

const FIRST_TOKEN_TRIES = 8; // a tap right after the page loads can come before its stream is open

async function connect() {
  let token = await server.engine_token();
  for (let tries = 1; typeof token !== "string" && !E.opened && tries < FIRST_TOKEN_TRIES; tries++) {
    await new Promise((done) => setTimeout(done, 250));
    token = await server.engine_token();
  }
  if (typeof token !== "string") {
    const why = token?.refused || "no token";
    if (E.opened) throw new Error(why); // a reconnect says so, and tries again later
    fallBack(why);
    return;
  }
  const root = window.gradio_config?.root || location.href;
  const url = new URL("engine/ws", root.endsWith("/") ? root : `${root}/`);
  url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
  url.searchParams.set("token", token);
  E.worker.postMessage({ connect: url.href });
}
