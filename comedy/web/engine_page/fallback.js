// The fallback, for a proxy or network that blocks the socket: speech over Gradio's own event stream
// (the hidden #speech-channel's value) into the same player, and Gradio's streamed microphone.
E.fromGradio = (value) => {
  if (!value || !E.player) return;
  const m = JSON.parse(value);
  if (m.type === WIRE.AUDIO) {
    const bytes = Uint8Array.from(atob(m.pcm), (c) => c.charCodeAt(0));
    E.player.port.postMessage({ item: m.item, pcm: bytes.buffer }, [bytes.buffer]);
  } else if (m.type === WIRE.CUT) {
    E.player.port.postMessage({ cut: true, at: performance.timeOrigin + performance.now() });
  } else if (m.type === WIRE.HOLD) {
    E.player.port.postMessage({ hold: true });
  } else if (m.type === WIRE.RESUME) {
    E.player.port.postMessage({ resume: true });
  } else if (m.type === WIRE.END) {
    E.player.port.postMessage({ end: m.item });
  } else if (m.type === WIRE.WORDS) {
    addWords(m.item, m.text, m.at);
  }
};

function fallBack(why) {
  E.path = "gradio";
  E.echo = "none";
  const path = `Sound: Gradio's own event stream, a little slower (${why}).`;
  sayFacts(`${path} ${ECHO_SAYS.none}`);
  say(`${path} Your microphone is in the settings, under “Sound without the engine”. ${ECHO_SAYS.none}`);
  const panel = document.querySelector("#fallback");
  if (panel && !panel.querySelector("#fallback-audio")) panel.querySelector("button").click(); // open it
  const tryClick = (left) => {
    const button = document.querySelector("#fallback-audio");
    if (button) button.click();
    else if (left > 0) setTimeout(() => tryClick(left - 1), 100);
  };
  Promise.resolve(E.ready).then(() => tryClick(50)); // once the player is there to take the speech
}
