// The player worklet (comedy/web/engine_page/worklets.js) outside Chromium: the file is evaluated as the
// audio worklet scope evaluates it, with that scope's globals (`sampleRate`, `currentTime`, the
// processor base class and `registerProcessor`), and the player is driven a render quantum at a time.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import test from "node:test";
import vm from "node:vm";

const source = readFileSync(new URL("../../comedy/web/engine_page/worklets.js", import.meta.url), "utf8");
const QUANTUM = 128;

function player(rate = 24000) {
  const processors = {};
  class AudioWorkletProcessor {
    constructor() {
      this.sent = [];
      this.port = { postMessage: (m) => this.sent.push(m), onmessage: null };
    }
  }
  const scope = vm.createContext({
    sampleRate: rate,
    currentTime: 0,
    AudioWorkletProcessor,
    registerProcessor: (name, cls) => {
      processors[name] = cls;
    },
  });
  vm.runInContext(source, scope);
  const p = new processors["comedy-player"]();
  const output = [];
  return {
    p,
    tell: (data) => p.port.onmessage({ data }),
    speech: (item, samples) => p.port.onmessage({ data: { item, pcm: Int16Array.from(samples).buffer } }),
    render(quanta = 1) {
      for (let q = 0; q < quanta; q++) {
        const out = new Float32Array(QUANTUM);
        p.process([], [[out]]);
        output.push(...out);
        scope.currentTime += QUANTUM / rate;
      }
      return output;
    },
    played: (item) => p.played[item] || 0,
    output,
  };
}

// Samples numbered from 1, so each played sample says which one it was (at 24 kHz, one per output).
function numbered(from, count) {
  return Array.from({ length: count }, (_, i) => from + i);
}

const asSample = (x) => Math.round(x * 0x8000);

test("a hold fades out within 10 ms, plays nothing more and counts nothing more", () => {
  const t = player();
  t.speech("a", numbered(1, 24000));
  t.render(10); // past the 40 ms prebuffer
  const before = t.played("a");
  assert.ok(before > 0);
  t.tell({ hold: true });
  t.render(3); // 384 samples: the 10 ms fade (240) and silence
  const afterFade = t.played("a");
  assert.equal(afterFade - before, 240); // the fade's samples were heard, and counted
  const out = t.render(20);
  assert.ok(out.slice(-20 * QUANTUM).every((x) => x === 0));
  assert.equal(t.played("a"), afterFade); // held: not a sample more
  assert.ok(t.p.sent.some((m) => m.held === true));
});

test("a resume goes on from the very next sample: nothing repeated, nothing skipped", () => {
  const t = player();
  t.speech("a", numbered(1, 24000));
  t.render(10);
  t.tell({ hold: true });
  t.render(5);
  const stoppedAt = t.played("a"); // samples 1..stoppedAt were played
  t.speech("a", numbered(24001, 2400)); // speech keeps arriving while held
  t.render(10);
  t.tell({ resume: true });
  const start = t.output.length;
  const out = t.render(10).slice(start);
  // the fade in scales samples stoppedAt+1...; after it, each output is the next sample, in order
  const fadeIn = 240;
  assert.equal(asSample(out[fadeIn]), stoppedAt + fadeIn + 1);
  for (let i = fadeIn; i < out.length; i++) assert.equal(asSample(out[i]), stoppedAt + i + 1);
  for (let i = 0; i < fadeIn; i++) assert.ok(Math.abs(out[i]) <= (stoppedAt + i + 1) / 0x8000);
  assert.equal(t.played("a"), stoppedAt + out.length);
  assert.ok(t.p.sent.some((m) => m.held === false));
});

test("a cut while held is silent at once and says exactly what was heard before the hold", () => {
  const t = player();
  t.speech("a", numbered(1, 24000));
  t.speech("b", numbered(1, 24000));
  t.render(10);
  t.tell({ hold: true });
  t.render(5);
  const heard = t.played("a");
  t.tell({ cut: true, at: 1 });
  const report = t.p.sent.find((m) => m.cut !== undefined);
  assert.deepEqual({ ...report.played }, { a: heard }); // nothing of b, nothing more of a
  t.render(5);
  assert.equal(t.played("a"), heard);
  t.speech("c", numbered(1, 4800)); // the next answer plays: a cut ends the hold
  const start = t.output.length;
  const out = t.render(60).slice(start);
  assert.ok(out.some((x) => x !== 0));
  assert.equal(t.played("c"), 4800);
});

test("a resume in the middle of the hold's fade climbs back from where the fade was", () => {
  const t = player();
  t.speech("a", Array(24000).fill(16384)); // a steady half-scale tone
  t.render(10);
  t.tell({ hold: true });
  const start = t.output.length;
  t.render(1); // 128 of the fade's 240 samples
  t.tell({ resume: true });
  const out = t.render(4).slice(start);
  const steps = out.slice(1).map((x, i) => Math.abs(x - out[i]));
  assert.ok(Math.max(...steps) < 0.01); // no jump: a ramp down, then a ramp up
  assert.equal(out[out.length - 1], 0.5);
});

test("at a device rate of 48 kHz a hold and a resume keep the count exact", () => {
  const t = player(48000);
  t.speech("a", numbered(1, 24000));
  t.render(20);
  t.tell({ hold: true });
  t.render(10);
  const held = t.played("a");
  t.render(10);
  assert.equal(t.played("a"), held);
  t.tell({ resume: true });
  t.render(400); // 1.07 s at 48 kHz: the whole second of speech plays out
  assert.equal(t.played("a"), 24000);
});

test("a hold with nothing sounding holds at once; a hold over a hold is one hold", () => {
  const t = player();
  t.tell({ hold: true });
  t.tell({ hold: true });
  assert.equal(t.p.sent.filter((m) => m.held === true).length, 1);
  t.speech("a", numbered(1, 4800));
  t.render(10);
  assert.equal(t.played("a"), 0);
  t.tell({ resume: true });
  t.render(60);
  assert.equal(t.played("a"), 4800);
});

test("an item played to its end is reported for half a second more, with when its last sample rendered", () => {
  const t = player();
  t.speech("a", numbered(1, 2400)); // 0.1 s
  t.tell({ end: "a" });
  t.render(30); // 0.16 s: the item plays out
  const lastSampleAt = t.p.lastAt.a;
  assert.ok(lastSampleAt > 0.09 && lastSampleAt < 0.11);
  const before = t.p.sent.length;
  t.render(60); // 0.32 s more, with nothing playing
  const reports = t.p.sent.slice(before).filter((m) => m.played);
  assert.ok(reports.length >= 10);
  for (const r of reports) {
    assert.equal(r.played.a, 2400);
    assert.equal(r.last.a, lastSampleAt);
  }
  t.render(60); // past half a second: no longer reported
  assert.deepEqual({ ...t.p.sent[t.p.sent.length - 1].played }, {});
});
