// Captions in step with what is heard: each piece of text came with the audio position (samples of
// its item) it arrived at, and shows once the player has played that far; not when it arrives.
// wordsHeard, captionText: shows.js.
const CAPTION_WORDS = 14; // the last words heard, large, as a caption line
const captionLine = element.querySelector(".captions");
const saidLine = element.querySelector(".said");

function addWords(item, text, at) {
  if (E.ended) return; // the show is over: nothing more is captioned
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
  announce(item, words, n);
}

// Each finished sentence heard, once, for a screen reader (newSentences: shows.js).
function announce(item, words, n) {
  E.captions.announced = E.captions.announced || {};
  const heard = words
    .slice(0, n)
    .map((w) => w.text)
    .join("");
  const [say, upto] = newSentences(heard, E.captions.announced[item] || 0);
  E.captions.announced[item] = upto;
  if (say) saidLine.textContent = say;
}

function clearCaptions() {
  E.captions.words = {};
  E.captions.count = {};
  E.captions.item = "";
  E.captions.announced = {};
  captionLine.textContent = "";
  saidLine.textContent = "";
}
