// The page's audio engine (the body of a gr.HTML component's js_on_load: `element`, `server`): its
// start, and the buttons. One click starts it: AudioContext.resume() and getUserMedia must run
// inside a user gesture. Speech and the microphone travel over one WebSocket per tab
// (comedy/web/engine.py), held by a Worker (socket_worker.js) that talks to the two AudioWorklets
// (worklets.js) directly; the main thread starts things, shows levels and captions, and relays the
// player's reports. The parts before this: state, levels, captions, player, connection, fallback,
// capture, check; after it, the show (its button, topics, state and scorecard).

// The socket's Worker is made when the page loads (no network, no sound): a press need not wait
// for it to boot.
function socketWorker() {
  if (!E.worker) {
    const code = URL.createObjectURL(new Blob([SOCKET_WORKER], { type: "application/javascript" }));
    E.worker = new Worker(code);
    E.worker.onmessage = onSocket;
  }
  return E.worker;
}

async function loadWorklets(ctx, speech, microphone) {
  const url = URL.createObjectURL(new Blob([WORKLETS], { type: "application/javascript" }));
  await ctx.audioWorklet.addModule(url);
  E.player = new AudioWorkletNode(ctx, "comedy-player", { numberOfInputs: 0, outputChannelCount: [1] });
  E.player.connect(ctx.destination);
  E.capture = new AudioWorkletNode(ctx, "comedy-capture", { numberOfInputs: 2, numberOfOutputs: 0 });
  E.player.connect(E.capture, 0, 1); // what is played: the echo canceller's reference
  E.player.port.onmessage = onPlayer;
  E.capture.port.onmessage = onCapture;
  E.player.port.postMessage({ port: speech }, [speech]);
  E.capture.port.postMessage({ port: microphone }, [microphone]);
}

// The sound starts: the audio context resumes (inside the click, as autoplay rules want) while the
// worklets load and the socket opens, all at once. Speech that arrives before the player is there
// waits in its port.
async function startSound() {
  E.ctx = new AudioContext({ latencyHint: "interactive" });
  const resumed = E.ctx.resume();
  const speech = new MessageChannel();
  const microphone = new MessageChannel();
  socketWorker().postMessage({ ports: [speech.port2, microphone.port2] }, [speech.port2, microphone.port2]);
  E.ready = loadWorklets(E.ctx, speech.port1, microphone.port1);
  await Promise.all([resumed, E.ready, connect()]);
}

async function start(withMicrophone) {
  if (withMicrophone) openMicrophone();
  if (!E.starting) E.starting = startSound();
  try {
    await E.starting;
    if (withMicrophone && (await connectMicrophone())) micOn(true);
  } catch (err) {
    E.starting = null;
    say(`The audio engine could not start: ${err}`);
  }
}

// What tests may do that a visitor cannot: all of it here.
E.test = Object.freeze({
  drop: () => E.worker.postMessage({ close: true }), // the socket drops, as a network would drop it
});

// Safari and iOS let a page play sound only once a tap has started it: the first tap anywhere
// starts the engine's audio (inside that tap), so the comedian is never silent there.
const unlock = () => {
  if (!E.starting)
    E.starting = startSound().catch((err) => {
      E.starting = null;
      say(`The audio engine could not start: ${err}`);
    });
};
document.addEventListener("pointerdown", unlock, { once: true, capture: true });
socketWorker();
document.addEventListener("touchend", unlock, { once: true, capture: true });

say("");
