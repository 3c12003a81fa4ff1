// What the page shows, as pure functions (no DOM, no audio): inlined before engine.js, and tested
// on their own with node's test runner (tests/js/).

// A level meter's width (percent) for a level (mean square, 0..1): the square root, so speech fills it.
function barWidth(level) {
  return Math.min(100, Math.round(Math.sqrt(Math.max(0, level)) * 180));
}

// The spotlight's opacity for the comedian's level: dim at rest, full at a normal voice.
function spotlightOpacity(level) {
  return 0.2 + Math.min(0.8, Math.sqrt(Math.max(0, level)) * 2.4);
}

// How many of an item's caption pieces have been heard: each came with the audio position (samples
// of its item) it arrived at, and counts once the player has played that far. Never fewer than
// `before` (what was already shown stays shown).
function wordsHeard(words, heard, before) {
  let n = before;
  while (n < words.length && words[n].at <= heard) n++;
  return n;
}

// The caption line: the last `most` words of the first `n` pieces.
function captionText(words, n, most) {
  const said = words
    .slice(0, n)
    .map((w) => w.text)
    .join("")
    .trim()
    .split(/\s+/)
    .filter(Boolean);
  return said.slice(-most).join(" ");
}

// The stage's lamps while the room laughs (the state "riding"): one more lamp for each half second
// the microphone hears it above a quiet room, never past ten. Once the laugh is over the room
// reader's score for the joke takes their place.
const LAUGH_LEVEL = 0.0001; // mean square: -40 dBFS
function laughLamps(lit, level, seconds) {
  return level > LAUGH_LEVEL ? Math.min(10, lit + seconds * 2) : lit;
}

// The sentences of a line heard since `announced` characters of it: the screen reader's live region
// says each finished sentence once (the caption line changes word by word, and is not announced).
// Returns [what to say, characters announced now].
function newSentences(text, announced) {
  let end = -1;
  const finished = /[.!?…]+["”’)]?(\s|$)/g;
  for (let match = finished.exec(text); match; match = finished.exec(text)) {
    end = match.index + match[0].length;
  }
  if (end <= announced) return ["", announced];
  return [text.slice(announced, end).trim(), end];
}
