// Levels: the two meters and the spotlight, which follows the comedian's voice.
// barWidth, spotlightOpacity: shows.js.
const bars = { you: element.querySelector(".level-you"), comedian: element.querySelector(".level-comedian") };
const spotlight = element.querySelector(".spotlight");

function draw(who, level) {
  E.levels[who] = level;
  E.peaks[who] = Math.max(E.peaks[who], level);
  bars[who].style.width = `${barWidth(level)}%`;
  if (who === "comedian") spotlight.style.opacity = String(spotlightOpacity(level));
}
