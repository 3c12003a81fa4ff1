// The page's audio engine (the body of a gr.HTML component's js_on_load: `element`, `server`).
// One click starts it: AudioContext.resume() and getUserMedia must run inside a user gesture.
// Speech and the microphone travel over one WebSocket per tab (comedy/engine.py), held by a Worker
// (socket_worker.js) that talks to the two AudioWorklets (worklets.js) directly; this main-thread
// part starts things, shows the levels and the path, and relays the player's reports.
const WORKLETS = __WORKLETS__;
const SOCKET_WORKER = __SOCKET_WORKER__;
const WIRE_RATE = 24000;
window.__engine = window.__engine || {
  path: "off", ctx: null, worker: null, open: false, player: null, capture: null, opened: false,
  retries: 0, connections: 0, heard: {}, cuts: [], levels: { you: 0, comedian: 0 },
  peaks: { you: 0, comedian: 0 }, mic: "off", echo: "", referenced: 0,
  captions: { words: {}, count: {}, shown: [], item: "" },
};
const E = window.__engine;
const CAPTION_WORDS = 14; // the last words heard, large, as a caption line
// barWidth, spotlightOpacity, wordsHeard, captionText: shows.js, inlined before this.
const line = element.querySelector(".engine-status");
const bars = { you: element.querySelector(".level-you"), comedian: element.querySelector(".level-comedian") };
const spotlight = element.querySelector(".spotlight");
const captionLine = element.querySelector(".captions");

function say(text) {
  E.status = text;
  line.textContent = text;
}

function draw(who, level) {
  E.levels[who] = level;
  E.peaks[who] = Math.max(E.peaks[who], level);
  bars[who].style.width = `${barWidth(level)}%`;
  if (who === "comedian") spotlight.style.opacity = String(spotlightOpacity(level));
}

// Captions in step with what is heard: each piece of text came with the audio position (samples of
// its item) it arrived at, and shows once the player has played that far; not when it arrives.
function addWords(item, text, at) {
  E.captions.words[item] = E.captions.words[item] || [];
  E.captions.words[item].push({ text, at });
  showWords(item);
}

function showWords(item) {
  const words = E.captions.words[item];
  if (!words) return;
  const heard = E.heard[item] || 0;
  const before = E.captions.count[item] || 0;
  const n = wordsHeard(words, heard, before);
  if (n === before) return;
  for (let i = before; i < n; i++) E.captions.shown.push({ item, index: i, heard });
  E.captions.count[item] = n;
  E.captions.item = item;
  captionLine.textContent = captionText(words, n, CAPTION_WORDS);
}

function toDevice(contextTime) {
  // When a sample rendered at `contextTime` leaves the output device, in page (performance) time.
  const ts = E.ctx.getOutputTimestamp();
  return ts.performanceTime + (contextTime - ts.contextTime) * 1000;
}

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

// The fallback: speech over Gradio's own event stream (the hidden #speech-channel's value).
E.fromGradio = (value) => {
  if (!value || !E.player) return;
  const m = JSON.parse(value);
  if (m.type === WIRE.AUDIO) {
    const bytes = Uint8Array.from(atob(m.pcm), (c) => c.charCodeAt(0));
    E.player.port.postMessage({ item: m.item, pcm: bytes.buffer }, [bytes.buffer]);
  } else if (m.type === WIRE.CUT) {
    E.player.port.postMessage({ cut: true, at: performance.timeOrigin + performance.now() });
  } else if (m.type === WIRE.END) {
    E.player.port.postMessage({ end: m.item });
  } else if (m.type === WIRE.WORDS) {
    addWords(m.item, m.text, m.at);
  }
};

function onPlayer(event) {
  const d = event.data;
  if (d.started !== undefined) {
    const at = toDevice(d.at);
    send({ type: WIRE.STARTED, item: d.started, ago_ms: performance.now() - at });
  } else if (d.cut !== undefined) {
    const received = d.received === undefined ? performance.now() : d.received - performance.timeOrigin;
    E.cuts.push({ received, silentAt: toDevice(d.cut) });
    // Everything rendered before the cut reaches the speaker: that is what the visitor heard.
    for (const item in d.played) E.heard[item] = Math.max(E.heard[item] || 0, d.played[item]);
    send({ type: WIRE.PLAYED, items: d.played, final: true });
  } else if (d.played) {
    // What has left the speaker: what the worklet rendered, less what is still in the output path.
    const inFlight = Math.max(0, Math.round((d.at - E.ctx.getOutputTimestamp().contextTime) * WIRE_RATE));
    const items = {};
    for (const item in d.played) {
      E.heard[item] = Math.max(E.heard[item] || 0, d.played[item] - inFlight);
      items[item] = E.heard[item];
      showWords(item);
    }
    if (Object.keys(items).length) send({ type: WIRE.PLAYED, items });
    draw("comedian", d.level);
  }
}

function onCapture(event) {
  const d = event.data;
  if (d.reference) E.referenced++;
  if (d.level !== undefined) draw("you", d.level);
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

function fallBack(why) {
  // A proxy or network that blocks the socket: Gradio's own streamed speaker and microphone.
  E.path = "gradio";
  E.echo = "none";
  say(`Sound: Gradio's own event stream, a little slower (${why}). Your microphone is below, under “Sound without the engine”. ${ECHO_SAYS.none}`);
  const panel = document.querySelector("#fallback");
  if (panel && !panel.querySelector("#fallback-audio")) panel.querySelector("button").click(); // open it
  const tryClick = (left) => {
    const button = document.querySelector("#fallback-audio");
    if (button) button.click();
    else if (left > 0) setTimeout(() => tryClick(left - 1), 100);
  };
  tryClick(50);
}

async function connect() {
  const token = await server.engine_token();
  if (typeof token !== "string") {
    const why = (token?.refused) || "no token";
    if (E.opened) throw new Error(why); // a reconnect says so, and tries again later
    fallBack(why);
    return;
  }
  const root = (window.gradio_config?.root) || location.href;
  const url = new URL("engine/ws", root.endsWith("/") ? root : `${root}/`);
  url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
  url.searchParams.set("token", token);
  E.worker.postMessage({ connect: url.href });
}

function openMicrophone() {
  // Inside the click too: the browser asks for the microphone once, on the visitor's gesture.
  E.microphone =
    E.microphone ||
    navigator.mediaDevices
      .getUserMedia({ audio: { echoCancellation: true, noiseSuppression: true, autoGainControl: true, channelCount: 1 } })
      .catch((err) => err);
  return E.microphone;
}

// Which echo path the visitor has: the browser cancels all the system's audio (Chrome's
// echoCancellation "all", where offered), or the server's canceller with the player's output as its
// reference; with Gradio's own stream (the fallback) nothing takes the comedian out.
const ECHO_SAYS = {
  "system-wide": "Echo: your browser cancels the comedian's voice itself.",
  server: "Echo: the server cancels the comedian's voice from your microphone.",
  none: "Echo is not cancelled on this path: use headphones, or the comedian may hear itself.",
};

function sayPath() {
  say(`Sound: the Web Audio engine, over one WebSocket.${E.echo ? ` ${ECHO_SAYS[E.echo]}` : ""}`);
}

async function echoPath(stream) {
  if (E.echo) return E.echo;
  const track = stream.getAudioTracks()[0];
  const offered = track?.getCapabilities ? track.getCapabilities().echoCancellation : null;
  let path = "server";
  if (Array.isArray(offered) && offered.includes("all")) {
    try {
      await track.applyConstraints({ echoCancellation: { exact: "all" } });
      path = "system-wide";
    } catch {
      path = "server"; // offered but refused: the server's canceller does it
    }
  }
  E.echo = path;
  E.capture.port.postMessage({ reference: path !== "system-wide" });
  return path;
}

async function connectMicrophone() {
  const stream = await openMicrophone();
  await E.starting;
  if (!(stream instanceof MediaStream)) {
    E.mic = "blocked";
    say(`No microphone (${stream.name}): type a topic instead. ${E.status}`);
    return false;
  }
  if (!E.source) {
    await echoPath(stream);
    E.source = E.ctx.createMediaStreamSource(stream);
    E.source.connect(E.capture, 0, 0);
    if (E.path === "engine") sayPath();
  }
  return true;
}

async function start(withMicrophone) {
  if (withMicrophone) openMicrophone();
  if (!E.starting) E.starting = startSound();
  try {
    await E.starting;
    if (withMicrophone && (await connectMicrophone())) E.micOn(true);
  } catch (err) {
    E.starting = null;
    say(`The audio engine could not start: ${err}`);
  }
}

async function startSound() {
  E.ctx = new AudioContext({ latencyHint: "interactive" });
  const ctx = E.ctx;
  const resumed = ctx.resume(); // inside the click, as autoplay rules want
  await resumed;
  const url = URL.createObjectURL(new Blob([WORKLETS], { type: "application/javascript" }));
  await ctx.audioWorklet.addModule(url);
  E.player = new AudioWorkletNode(ctx, "comedy-player", { numberOfInputs: 0, outputChannelCount: [1] });
  E.player.connect(ctx.destination);
  E.capture = new AudioWorkletNode(ctx, "comedy-capture", { numberOfInputs: 2, numberOfOutputs: 0 });
  E.player.connect(E.capture, 0, 1); // what is played: the echo canceller's reference
  E.player.port.onmessage = onPlayer;
  E.capture.port.onmessage = onCapture;
  const code = URL.createObjectURL(new Blob([SOCKET_WORKER], { type: "application/javascript" }));
  E.worker = new Worker(code);
  E.worker.onmessage = onSocket;
  const speech = new MessageChannel();
  const microphone = new MessageChannel();
  E.player.port.postMessage({ port: speech.port1 }, [speech.port1]);
  E.capture.port.postMessage({ port: microphone.port1 }, [microphone.port1]);
  E.worker.postMessage({ ports: [speech.port2, microphone.port2] }, [speech.port2, microphone.port2]);
  await connect();
}

E.drop = () => E.worker.postMessage({ close: true }); // test hook: the socket drops
E.micOn = (on) => {
  E.mic = on ? "on" : "off";
  E.capture.port.postMessage({ on });
  element.querySelector(".engine-mic").textContent = on ? "🎙️ Microphone on" : "🎙️ Microphone off";
};

// The buttons that start a set start the engine too (a capturing listener: it runs in the click).
document.addEventListener(
  "click",
  (event) => {
    if (event.target.closest("#start-set")) start(true);
    else if (event.target.closest("#tell-joke, .engine-start")) start(false);
  },
  true,
);
element.querySelector(".engine-mic").addEventListener("click", async () => {
  if (E.mic === "on") {
    E.micOn(false);
    server.stop_talking_now();
  } else {
    await start(true);
  }
});
// A microphone check before the first set: three seconds of level, then what we heard or what to fix.
const CHECK_SECONDS = 3;
const HEARD_LEVEL = 0.02; // RMS above this is a voice, not a quiet room
async function checkMicrophone() {
  const stream = await openMicrophone();
  if (!(stream instanceof MediaStream)) {
    E.micCheck = stream.name === "NotAllowedError" ? "blocked" : "missing";
    say(E.micCheck === "blocked"
      ? "The browser blocked the microphone: allow it (the icon in the address bar), then check again."
      : `No microphone found (${stream.name}): plug one in, or type a topic instead.`);
    return E.micCheck;
  }
  if (!E.starting) E.starting = startSound();
  await E.starting;
  const probe = E.ctx.createMediaStreamSource(stream);
  const meter = E.ctx.createAnalyser();
  meter.fftSize = 2048;
  probe.connect(meter);
  const samples = new Float32Array(meter.fftSize);
  let loudest = 0;
  say("Checking the microphone: say something…");
  const until = performance.now() + CHECK_SECONDS * 1000;
  while (performance.now() < until) {
    meter.getFloatTimeDomainData(samples);
    const level = Math.sqrt(samples.reduce((sum, x) => sum + x * x, 0) / samples.length);
    loudest = Math.max(loudest, level);
    draw("you", level);
    await new Promise((done) => setTimeout(done, 50));
  }
  probe.disconnect();
  E.micCheck = loudest > HEARD_LEVEL ? "heard" : "quiet";
  const echo = ECHO_SAYS[E.path === "gradio" ? "none" : await echoPath(stream)];
  say(E.micCheck === "heard"
    ? `We can hear you. Press Start the set and talk. ${echo}`
    : `We can't hear you: check the input device in your system settings, or move closer. ${echo}`);
  return E.micCheck;
}
element.querySelector(".engine-check").addEventListener("click", () => checkMicrophone());

// Safari and iOS let a page play sound only once a tap has started it: the first tap anywhere
// starts the engine's audio (inside that tap), so the comedian is never silent there.
const unlock = () => {
  if (!E.starting) E.starting = startSound().catch((err) => { E.starting = null; say(`The audio engine could not start: ${err}`); });
};
document.addEventListener("pointerdown", unlock, { once: true, capture: true });
document.addEventListener("touchend", unlock, { once: true, capture: true });

say("Sound starts with the set: press Start the set or Tell a joke.");
