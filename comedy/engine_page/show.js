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
  go.setAttribute("aria-label", on ? "End the show" : "Start the show");
  element.querySelector(".go-label").textContent = on ? "End the show" : "Start the show";
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
      row.textContent = joke.text;
      const lit = document.createElement("span");
      lit.className = "lit";
      lit.textContent = `${joke.lamps}/10`;
      row.append(lit);
      return row;
    }),
  );
  card.querySelector(".scorecard-best").textContent = scores.best
    ? `Best joke (${scores.best_lamps}/10): “${scores.best}”`
    : "No laughs tonight: the room was tough.";
  card.querySelector(".play-best").hidden = !scores.best;
  card.hidden = false;
}

// What the server says of the show (through the hidden #show-news component, pushed as it changes).
E.news = (value) => {
  if (!value) return;
  const news = JSON.parse(value);
  if (news.set && E.endedSets.includes(news.set)) return; // an old show's late word
  if (news.state === "over") {
    if (news.set) E.endedSets.push(news.set);
    if (E.state !== "over") finish();
    else setState("over");
    if (news.scorecard) showScorecard(news.scorecard);
  } else if (!E.ended && E.state !== "idle") {
    setState(news.state);
  }
  lightLamps(news.lamps || 0);
};

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
card.querySelector(".another").addEventListener("click", () => {
  begin(true);
  trigger("click");
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
