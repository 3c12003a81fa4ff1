// The engine's AudioWorklet processors: loaded from a Blob URL by engine.js.
// Everything on the wire is 24 kHz mono PCM16; the device runs at whatever rate it likes.
const WIRE_RATE = 24000;

// Microphone (input 0) -> 24 kHz PCM16 in 20 ms frames. Input 1 is what the player is rendering, sample
// for sample beside what the microphone captured: sent with the frame as the reference, so the
// server's echo canceller (comedy/sound/echo.py) can take the comedian out of the microphone. A frame
// goes alone when nothing played, or when the browser already cancels all the system's audio.
// On the wire: [channels u8][0 u8][microphone PCM16][reference PCM16 when channels is 2].
class Capture extends AudioWorkletProcessor {
  constructor() {
    super();
    this.step = sampleRate / WIRE_RATE; // device samples per wire sample
    this.t = 0; // where the next wire sample sits, in device samples from this block's start
    this.last = 0; // the previous block's last sample
    this.lastRef = 0;
    this.size = WIRE_RATE / 50;
    this.frame = new Int16Array(1 + 2 * this.size); // header, microphone, reference
    this.n = 0;
    this.played = false; // the reference held sound in this frame
    this.reference = true; // false: the browser cancels echo itself, no reference is needed
    this.on = false;
    this.levelSum = 0;
    this.levelCount = 0;
    this.out = null; // the socket worker's port: frames go straight to it
    this.port.onmessage = (e) => {
      if (e.data.reference !== undefined) this.reference = e.data.reference;
      if (e.data.on !== undefined) this.on = e.data.on;
      if (e.data.port) this.out = e.data.port;
    };
  }

  process(inputs) {
    const mic = inputs[0]?.[0];
    if (!mic) return true;
    const ref = inputs[1]?.[0];
    const size = mic.length;
    while (this.t < size - 1) {
      const i = Math.floor(this.t);
      const f = this.t - i;
      const a = i < 0 ? this.last : mic[i];
      let playing = 0;
      if (ref) {
        const r = i < 0 ? this.lastRef : ref[i];
        playing = r + (ref[i + 1] - r) * f;
      }
      this.push(a + (mic[i + 1] - a) * f, playing);
      this.t += this.step;
    }
    this.t -= size;
    this.last = mic[size - 1];
    this.lastRef = ref ? ref[size - 1] : 0;
    return true;
  }

  push(sample, playing) {
    this.frame[1 + this.n] = pcm16(sample);
    const r = pcm16(playing);
    this.frame[1 + this.size + this.n] = r;
    if (r > 1 || r < -1) this.played = true;
    this.levelSum += sample * sample;
    this.levelCount++;
    if (++this.n < this.size) return;
    const withReference = this.reference && this.played;
    const out = this.frame.slice(0, withReference ? 1 + 2 * this.size : 1 + this.size);
    out[0] = withReference ? 2 : 1;
    if (this.on && this.out) this.out.postMessage(out.buffer, [out.buffer]);
    const level = Math.sqrt(this.levelSum / this.levelCount);
    this.port.postMessage({ level: this.on ? level : 0, reference: this.on && withReference });
    this.n = 0;
    this.played = false;
    this.levelSum = 0;
    this.levelCount = 0;
  }
}

function pcm16(x) {
  const clipped = Math.max(-1, Math.min(1, x));
  return clipped < 0 ? clipped * 0x8000 : clipped * 0x7fff;
}

// A ring buffer of 24 kHz speech played at the device rate: gapless, a small prebuffer against
// network jitter, a 4 ms fade on a cut. It counts what it has played of each item and reports it.
// A hold (a sound over the comedian, while the server decides what it is) fades out in 10 ms and
// keeps everything: the buffer, the counts, and the speech still arriving; a resume fades back in
// from the very next sample, so nothing is played twice or skipped; a cut while held is silent at
// once, and its counts are what was heard before the hold.
class Player extends AudioWorkletProcessor {
  constructor() {
    super();
    this.cap = WIRE_RATE * 120;
    this.buf = new Float32Array(this.cap);
    this.r = 0; // samples consumed (absolute)
    this.w = 0; // samples written (absolute)
    this.t = 0; // fraction between buf[r] and buf[r + 1]
    this.step = WIRE_RATE / sampleRate;
    this.items = []; // [{item, end}] in order: where each item's samples end
    this.ended = new Set(); // items whose last sample has arrived
    this.played = {};
    // Items whose count changed lately (context time of the change): reported for half a second
    // more, with when their latest sample was rendered, so the page can tell when that sample
    // reached the speaker (an item played to its end is then heard to its end).
    this.fresh = {};
    this.lastAt = {};
    this.renderAt = 0; // the context time of the sample being rendered
    this.startedAt = {}; // item -> context time of its first sample
    this.prebuffer = Math.round(WIRE_RATE * 0.04);
    this.waiting = true;
    this.fade = 0;
    this.fadeLength = Math.max(1, Math.round(sampleRate * 0.004));
    this.held = false; // holding: nothing is consumed, everything is kept
    this.holdFade = 0; // samples left of the fade into a hold (still consumed and counted)
    this.resumeFade = 0; // samples left of the fade back in after a hold
    this.holdLength = Math.max(1, Math.round(sampleRate * 0.01));
    this.since = 0;
    this.levelSum = 0;
    this.levelCount = 0;
    const listen = (e) => {
      const d = e.data;
      if (d.port) {
        d.port.onmessage = listen; // the socket worker's port: speech and cuts, straight in
      } else if (d.cut) {
        this.cutReceived = d.at; // when the cut reached the page (ms since the epoch)
        if (this.sounding()) this.fade = this.fadeLength;
        else this.silence(); // nothing is sounding: silent at once
      } else if (d.hold) {
        this.hold();
      } else if (d.resume) {
        this.resume();
      } else if (d.end) {
        this.ended.add(d.end);
      } else if (d.pcm) {
        this.write(d.item, new Int16Array(d.pcm));
      }
    };
    this.port.onmessage = listen;
  }

  write(item, pcm) {
    if (this.w - this.r + pcm.length > this.cap) return; // a full buffer drops, never overwrites
    for (let i = 0; i < pcm.length; i++) this.buf[(this.w + i) % this.cap] = pcm[i] / 0x8000;
    this.w += pcm.length;
    const last = this.items[this.items.length - 1];
    if (last && last.item === item) last.end = this.w;
    else this.items.push({ item, end: this.w });
  }

  sounding() {
    return this.w - this.r >= 2 && !this.waiting && !this.held;
  }

  hold() {
    if (this.held || this.holdFade > 0) return;
    this.resumeFade = 0;
    if (this.sounding() && this.fade === 0) this.holdFade = this.holdLength;
    else this.held = true;
    this.port.postMessage({ held: true, at: currentTime });
  }

  resume() {
    if (!this.held && this.holdFade === 0) return;
    const wasSounding = this.holdFade > 0 || !this.waiting;
    this.held = false;
    // from the fade's gain back to full: a resume mid-fade never jumps
    const gain = this.holdFade > 0 ? this.holdFade / this.holdLength : 0;
    this.holdFade = 0;
    this.resumeFade = wasSounding ? Math.round((1 - gain) * this.holdLength) : 0;
    this.port.postMessage({ held: false, at: currentTime });
  }

  silence() {
    this.fade = 0;
    this.held = false;
    this.holdFade = 0;
    this.resumeFade = 0;
    this.drop();
    // All that was rendered before the cut reaches the speaker: the visitor heard all of it.
    this.port.postMessage({ cut: currentTime, received: this.cutReceived, played: { ...this.played } });
  }

  drop() {
    this.r = this.w;
    this.t = 0;
    this.items = [];
    this.waiting = true;
  }

  consume() {
    const head = this.items[0];
    if (head) {
      if (!(head.item in this.startedAt)) {
        this.startedAt[head.item] = currentTime;
        this.port.postMessage({ started: head.item, at: currentTime });
      }
      this.played[head.item] = (this.played[head.item] || 0) + 1;
      this.fresh[head.item] = this.renderAt;
      this.lastAt[head.item] = this.renderAt;
    }
    this.r++;
    if (head && this.r >= head.end) this.items.shift();
  }

  process(_inputs, outputs) {
    const out = outputs[0][0];
    const available = this.w - this.r;
    const head = this.items[0];
    if (this.waiting && (available >= this.prebuffer || (head && this.ended.has(head.item)))) {
      this.waiting = false;
    }
    for (let i = 0; i < out.length; i++) {
      this.renderAt = currentTime + i / sampleRate;
      if (this.held) {
        out[i] = 0;
        continue;
      }
      if (this.waiting || this.w - this.r < 2) {
        out[i] = 0;
        if (this.fade > 0) this.silence(); // ran dry while fading: the cut is done
        if (this.holdFade > 0) [this.holdFade, this.held] = [0, true]; // ...the hold is
        if (!this.waiting && this.w - this.r < 2) {
          while (this.w > this.r) this.consume(); // play out the very last sample's credit
          this.waiting = true;
        }
        continue;
      }
      const a = this.buf[this.r % this.cap];
      const b = this.buf[(this.r + 1) % this.cap];
      let sample = a + (b - a) * this.t;
      if (this.fade > 0) {
        sample *= this.fade / this.fadeLength;
        this.fade--;
        if (this.fade === 0) this.silence();
      } else if (this.holdFade > 0) {
        sample *= this.holdFade / this.holdLength;
        if (--this.holdFade === 0) this.held = true; // this sample is the last one consumed
      } else if (this.resumeFade > 0) {
        sample *= 1 - this.resumeFade / this.holdLength;
        this.resumeFade--;
      }
      out[i] = sample;
      this.levelSum += sample * sample;
      this.levelCount++;
      this.t += this.step;
      while (this.t >= 1 && this.w > this.r) {
        this.t -= 1;
        this.consume();
      }
    }
    this.since += out.length;
    if (this.since >= sampleRate / 50) {
      const level = this.levelCount ? Math.sqrt(this.levelSum / this.levelCount) : 0;
      const played = {};
      const last = {};
      for (const item in this.fresh) {
        if (currentTime - this.fresh[item] > 0.5) {
          delete this.fresh[item];
          continue;
        }
        played[item] = this.played[item];
        last[item] = this.lastAt[item];
      }
      this.port.postMessage({ played, last, level, at: currentTime });
      this.since = 0;
      this.levelSum = 0;
      this.levelCount = 0;
    }
    return true;
  }
}

registerProcessor("comedy-capture", Capture);
registerProcessor("comedy-player", Player);
