// The microphone: asked for inside the visitor's click, its echo path chosen once, its level shown,
// and switched on and off (the capture worklet sends nothing while it is off).

// Which echo path the visitor has: the browser cancels all the system's audio (Chrome's
// echoCancellation "all", where offered), or the server's canceller with the player's output as its
// reference; with Gradio's own stream (the fallback) nothing takes the comedian out.
const ECHO_SAYS = {
  "system-wide": "Echo: your browser cancels the comedian's voice itself.",
  server: "Echo: the server cancels the comedian's voice from your microphone.",
  none: "Echo is not cancelled on this path: use headphones, or the comedian may hear itself.",
};

function openMicrophone() {
  E.microphone =
    E.microphone ||
    navigator.mediaDevices
      .getUserMedia({ audio: { echoCancellation: true, noiseSuppression: true, autoGainControl: true, channelCount: 1 } })
      .then((stream) => {
        E.stream = stream;
        return stream;
      })
      .catch((err) => err);
  return E.microphone;
}

// The show is over: the microphone is let go (its track stops, the browser's indicator goes out).
function releaseMicrophone() {
  if (E.capture) micOn(false);
  if (E.source) {
    E.source.disconnect();
    E.source = null;
  }
  if (E.stream) for (const track of E.stream.getTracks()) track.stop();
  E.microphone = null;
  if (E.echo === "system-wide") E.echo = ""; // the next track is asked again
}

function onCapture(event) {
  const d = event.data;
  if (d.reference) E.referenced++;
  if (d.level !== undefined) draw("you", d.level);
}

function sayPath() {
  sayFacts(`Sound: the Web Audio engine, over one WebSocket.${E.echo ? ` ${ECHO_SAYS[E.echo]}` : ""}`);
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
    say(`No microphone (${stream.name}): type a topic instead.`);
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

function micOn(on) {
  E.mic = on ? "on" : "off";
  E.capture.port.postMessage({ on });
  const mute = element.querySelector(".mute");
  mute.setAttribute("aria-pressed", String(!on));
  mute.setAttribute("aria-label", on ? "Mute the microphone" : "Microphone on");
}
