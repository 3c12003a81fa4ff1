// The engine's state, one object for the tab (js_on_load may run again: it is kept), and the status
// line. Every part of the engine (inlined after this, in the order of comedy/web/engine_page/__init__.py)
// reads and writes it; tests read it as `window.__engine` and drive it only through `E.test`.
const WORKLETS = __WORKLETS__;
const SOCKET_WORKER = __SOCKET_WORKER__;
const WIRE_RATE = 24000;
window.__engine = window.__engine || {
  path: "off", ctx: null, worker: null, open: false, player: null, capture: null, opened: false,
  retries: 0, connections: 0, heard: {}, cuts: [], holds: [], held: false, levels: { you: 0, comedian: 0 },
  peaks: { you: 0, comedian: 0 }, mic: "off", echo: "", referenced: 0,
  captions: { words: {}, count: {}, shown: [], item: "" },
};
const E = window.__engine;
const statusLine = element.querySelector(".engine-status");

function say(text) {
  E.status = text;
  statusLine.textContent = text;
}

// How the sound travels (engine or fallback, which canceller): a fact for the stats, not a line
// under the button for the whole show.
function sayFacts(text) {
  E.facts = text;
  for (const where of document.querySelectorAll(".engine-facts")) where.textContent = text;
}
