// Levels: the spotlight follows the comedian's voice, the ring round the microphone button yours
// (and the meters, out of sight, both). barWidth, spotlightOpacity: shows.js.
const bars = { you: element.querySelector(".level-you"), comedian: element.querySelector(".level-comedian") };
const spotlight = element.querySelector(".spotlight");
const ring = element.querySelector(".mute");

function draw(who, level) {
  E.levels[who] = level;
  E.peaks[who] = Math.max(E.peaks[who], level);
  bars[who].style.width = `${barWidth(level)}%`;
  if (who === "comedian") spotlight.style.opacity = String(spotlightOpacity(level));
  else ring.style.setProperty("--you", String(barWidth(level) / 100));
}
