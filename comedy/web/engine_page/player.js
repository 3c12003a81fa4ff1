// The player worklet's reports: when an item's first sample left the output device, what has been
// heard (rendered, less what is still in the output path), and what was heard before a cut.
function toDevice(contextTime) {
  // When a sample rendered at `contextTime` leaves the output device, in page (performance) time.
  const ts = E.ctx.getOutputTimestamp();
  return ts.performanceTime + (contextTime - ts.contextTime) * 1000;
}

function onPlayer(event) {
  const d = event.data;
  if (d.started !== undefined) {
    const at = toDevice(d.at);
    E.firstSound = E.firstSound || at; // page time the show's first sample left the output device
    send({ type: WIRE.STARTED, item: d.started, ago_ms: performance.now() - at });
  } else if (d.held !== undefined) {
    // when the comedian fell silent for a sound over it (or went on), at the output device
    E.held = d.held;
    E.holds.push({ held: d.held, at: toDevice(d.at) });
    if (E.holds.length > 200) E.holds.shift();
  } else if (d.cut !== undefined) {
    const received = d.received === undefined ? performance.now() : d.received - performance.timeOrigin;
    E.cuts.push({ received, silentAt: toDevice(d.cut) });
    // Everything rendered before the cut reaches the speaker: that is what the visitor heard.
    for (const item in d.played) E.heard[item] = Math.max(E.heard[item] || 0, d.played[item]);
    send({ type: WIRE.PLAYED, items: d.played, final: true });
  } else if (d.played) {
    // What of each item has left the speaker: all but what was rendered after the device's clock.
    const speakerAt = E.ctx.getOutputTimestamp().contextTime;
    const items = {};
    for (const item in d.played) {
      const rendered = d.last?.[item] ?? d.at;
      const unheard = Math.max(0, Math.round((rendered - speakerAt) * WIRE_RATE));
      const heard = Math.max(0, d.played[item] - unheard);
      if (heard <= (E.heard[item] || 0)) continue;
      E.heard[item] = heard;
      items[item] = heard;
      showWords(item);
    }
    if (Object.keys(items).length) send({ type: WIRE.PLAYED, items });
    draw("comedian", d.level);
  }
}
