// A microphone check before the first set: three seconds of level, then what we heard or what to fix.
const CHECK_SECONDS = 3;
const HEARD_LEVEL = 0.02; // RMS above this is a voice, not a quiet room

// The check's button and its answer live in the settings, outside the show.
function sayCheck(text) {
  say(text);
  for (const where of document.querySelectorAll(".mic-check-said")) where.textContent = text;
}

async function checkMicrophone() {
  const stream = await openMicrophone();
  if (!(stream instanceof MediaStream)) {
    E.micCheck = stream.name === "NotAllowedError" ? "blocked" : "missing";
    sayCheck(
      E.micCheck === "blocked"
        ? "The browser blocked the microphone: allow it (the icon in the address bar), then check again."
        : `No microphone found (${stream.name}): plug one in, or type a topic instead.`,
    );
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
  sayCheck("Checking the microphone: say something…");
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
  sayCheck(
    E.micCheck === "heard"
      ? `We can hear you. Press Start the show and talk. ${echo}`
      : `We can't hear you: check the input device in your system settings, or move closer. ${echo}`,
  );
  if (E.state === "idle" || E.state === "over") releaseMicrophone(); // no show: the microphone is let go
  return E.micCheck;
}
