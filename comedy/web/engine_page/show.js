// The show: one button (Start the show, then End the show), the microphone's mute and the topic
// field beside it, topic chips that start the show and tell that joke in one tap, the state on the
// stage, the last laugh's lamps, and the scorecard when the show is over. Each press starts the
// engine inside the visitor's gesture, then tells the server through the component's events
// (`trigger`: click starts the show, submit tells a topic, stop ends it).
const STATES = {
  idle: "Tap Start",
  warming: "Warming up…",
  "on-stage": "On stage",
  "your-turn": "Your turn: talk or pick a topic",
  listening: "Listening…",
  riding: "Holding for the laugh",
  heckle: "Heckle! Answering…",
  switching: "Switching voice…",
  thinking: "Thinking…",
  over: "Show's over",
};
const TOPICS = ["Airports", "Cats", "My job", "Dating apps"];
const show = element.querySelector(".show");
const go = element.querySelector(".go");
const mute = element.querySelector(".mute");
const keys = element.querySelector(".keys");
const topicForm = element.querySelector(".topic");
const topicInput = topicForm.querySelector("input");
const card = element.querySelector(".scorecard");
const lampRow = element.querySelector(".lamps");
E.endedSets = E.endedSets || [];

function live() {
  return E.state !== "idle" && E.state !== "over";
}

function setState(state) {
  E.state = state;
  show.dataset.state = state;
  element.querySelector(".state-label").textContent = STATES[state] || STATES.idle;
  const on = live();
  show.classList.toggle("live", on);
  const label = on ? "End the show" : state === "over" ? "Another show" : "Start the show";
  go.setAttribute("aria-label", label);
  element.querySelector(".go-label").textContent = label;
  mute.disabled = !on;
}

function lightLamps(lit) {
  lampRow.setAttribute("aria-valuenow", String(lit));
  lampRow.querySelectorAll(".lamp").forEach((lamp, i) => {
    lamp.classList.toggle("on", i < lit);
  });
}

function begin(withMicrophone) {
  card.hidden = true;
  show.classList.remove("carded");
  E.ended = false;
  clearCaptions();
  if (!live()) setState("warming");
  start(withMicrophone);
}

// The show is over (the visitor ended it, or the server did): the microphone is let go, the
// captions cleared, and nothing more is captioned.
function finish() {
  E.ended = true;
  setState("over");
  releaseMicrophone();
  clearCaptions();
  if (E.player) E.player.port.postMessage({ cut: true, at: performance.timeOrigin + performance.now() });
}

function tell(topic) {
  const said = topic.trim();
  if (!said) return;
  if (!live()) begin(false); // a topic with no show yet: the show starts with that joke
  trigger("submit", { topic: said });
}

function showScorecard(scores) {
  const jokes = card.querySelector(".scorecard-jokes");
  const count = scores.count === 1 ? "1 joke" : `${scores.count} jokes`;
  card.querySelector(".scorecard-title").textContent = `Tonight's set · ${count} · ${scores.length}`;
  jokes.replaceChildren(
    ...scores.jokes.map((joke) => {
      const row = document.createElement("li");
      const text = document.createElement("span");
      text.className = "joke";
      text.textContent = joke.text;
      const lit = document.createElement("span");
      lit.className = "lit";
      lit.textContent = `${joke.lamps}/10`;
      lit.setAttribute("aria-label", `${joke.lamps} of 10 lamps`);
      row.append(text, lit);
      return row;
    }),
  );
  card.querySelector(".scorecard-best").textContent = scores.best
    ? `Best joke (${scores.best_lamps}/10): “${scores.best}”`
    : "No laughs heard tonight: the lamps light when the microphone hears the room laugh.";
  card.querySelector(".play-best").hidden = !scores.best;
  card.hidden = false;
  show.classList.add("carded");
  prepareDownload();
}

// The end card's download: the zip is asked for as soon as the card shows; a click before it
// exists waits for it (the button busy), so the first click always downloads.
const download = card.querySelector(".download");
const downloadSaid = card.querySelector(".download-said");
function downloadBusy(busy) {
  download.setAttribute("aria-busy", String(busy));
  download.querySelector(".download-label").textContent = busy ? "Preparing the set…" : "Download the set";
}
function prepareDownload() {
  if (E.zip) return E.zip;
  downloadSaid.textContent = "";
  downloadBusy(true);
  E.zip = server
    .set_download()
    .catch(() => ({ refused: "The download could not be prepared: try again." }))
    .then((got) => {
      if (got?.refused) E.zip = null; // the next click asks again
      if (!E.downloading) downloadBusy(false);
      return got;
    });
  return E.zip;
}
download.addEventListener("click", async () => {
  if (E.downloading) return;
  E.downloading = true;
  downloadBusy(true);
  const got = await prepareDownload();
  E.downloading = false;
  downloadBusy(false);
  if (!got?.url) {
    downloadSaid.textContent = got?.refused || "Nothing to download.";
    return;
  }
  const root = window.gradio_config?.root || location.href;
  const link = document.createElement("a");
  link.href = new URL(got.url, root.endsWith("/") ? root : `${root}/`).href;
  link.download = "";
  document.body.append(link);
  link.click();
  link.remove();
  downloadSaid.textContent = "Downloaded: the set's sound and its transcript, in one zip.";
});

// What the server says of the show (through the hidden #show-news component, pushed as it changes).
E.news = (value) => {
  if (!value) return;
  const news = JSON.parse(value);
  if (news.set && E.endedSets.includes(news.set)) return; // an old show's late word
  if (news.state === "over") {
    if (news.set) E.endedSets.push(news.set);
    if (news.set && news.set !== E.zipOf) {
      E.zip = null; // a new show's end card: a new zip
      E.zipOf = news.set;
    }
    if (E.state !== "over") finish();
    else setState("over");
    if (news.scorecard) showScorecard(news.scorecard);
  } else if (!E.ended && E.state !== "idle") {
    setState(news.state);
  }
  if (E.state !== "riding") lightLamps(news.lamps || 0);
};

// While the comedian rides a laugh, the lamps light with it (the joke's score comes after).
const RIDE_TICK_MS = 100;
clearInterval(E.rideTimer); // (js_on_load may run again: one timer, on this element)
E.rideTimer = setInterval(() => {
  if (E.state !== "riding") {
    E.ridden = 0;
    return;
  }
  E.ridden = laughLamps(E.ridden || 0, E.levels.you, RIDE_TICK_MS / 1000);
  lightLamps(Math.floor(E.ridden));
}, RIDE_TICK_MS);

go.addEventListener("click", () => {
  if (live()) {
    finish();
    trigger("stop");
  } else {
    begin(true);
    trigger("click");
  }
});
mute.addEventListener("click", async () => {
  if (E.mic === "on") {
    micOn(false);
    server.stop_talking_now();
  } else {
    await start(true);
  }
});
keys.addEventListener("click", () => {
  topicForm.hidden = !topicForm.hidden;
  keys.setAttribute("aria-expanded", String(!topicForm.hidden));
  if (!topicForm.hidden) topicInput.focus();
});
topicForm.addEventListener("submit", (event) => {
  event.preventDefault();
  tell(topicInput.value);
  topicInput.value = "";
});
const chips = element.querySelector(".chips");
for (const topic of TOPICS) {
  const chip = document.createElement("button");
  chip.type = "button";
  chip.textContent = topic;
  chip.addEventListener("click", () => tell(topic));
  chips.append(chip);
}
const own = document.createElement("button");
own.type = "button";
own.textContent = "Your own…";
own.addEventListener("click", () => {
  if (topicForm.hidden) keys.click();
  else topicInput.focus();
});
chips.append(own);
card.querySelector(".to-battle").addEventListener("click", () => {
  document.querySelector("#header .battle-toggle")?.click();
});
card.querySelector(".play-best").addEventListener("click", async () => {
  if (!E.starting) E.starting = startSound();
  await E.starting;
  const bit = await server.best_bit();
  if (!bit?.pcm) {
    say(bit?.refused || "Nothing to replay.");
    return;
  }
  const bytes = Uint8Array.from(atob(bit.pcm), (c) => c.charCodeAt(0));
  E.player.port.postMessage({ item: `best-bit-${Date.now()}`, pcm: bytes.buffer }, [bytes.buffer]);
});
document.addEventListener("click", (event) => {
  if (event.target.closest(".mic-check")) checkMicrophone();
});

setState(E.state || "idle");
