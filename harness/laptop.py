"""A simulated laptop on speakers: what the page plays comes back into its microphone through a room.

Chrome's echo canceller ignores audio a page plays through Web Audio, so on laptop speakers the
microphone hears the comedian: delayed (the output and input paths: 40-120 ms), coloured (small
speakers, no bass) and reflected by the room, at a coupling of about -6 dB (quiet speakers) to
+6 dB (a microphone whose gain is up). The room is pyroomacoustics' image-source model of a 4 x 5 x
2.7 m room with a 0.35 s reverberation time, a laptop on a desk in it: speakers under the keyboard,
the microphone above the screen 27 cm away (direct sound about 9 dB above the room's).
Two forms of one room:

- `Laptop.echo(played)` offline, for `bench.echo`;
- `room_script(...)`, a page init script for headless Chromium: every node a page connects to its
  speaker (`AudioContext.destination`) also reaches the fake microphone through a delay, a
  ConvolverNode with the room's response and the coupling's gain, mixed with the rehearsal
  audience's feed (laughs, applause, heckles a test cues). The page is the shipped page: nothing in
  it is switched off or told it is being tested.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache

import numpy as np
import pyroomacoustics
from scipy import signal

from comedy.realtime.protocol import SAMPLE_RATE

COUPLINGS_DB = (-6.0, 0.0, 6.0)
DELAYS_MS = (40.0, 80.0, 120.0)
RT60_SECONDS = 0.35  # a living room or a small meeting room
ROOM_M = (4.0, 5.0, 2.7)
SPEAKER_BAND_HZ = (200.0, 7000.0)  # a laptop's speakers: no bass, little air
RESPONSE_SECONDS = 0.4  # the response kept (past this the room is 45 dB down)


@cache
def room_response(seed: int = 0) -> np.ndarray:
    """The room's impulse response from the laptop's speakers to its microphone, at 24 kHz, from
    the direct sound on (the delay is the device's), through the speakers' band; unit energy (the
    coupling sets the level). `seed` moves the desk about the room."""
    rng = np.random.default_rng(seed)
    absorption, max_order = pyroomacoustics.inverse_sabine(RT60_SECONDS, ROOM_M)
    room = pyroomacoustics.ShoeBox(
        ROOM_M, fs=SAMPLE_RATE, materials=pyroomacoustics.Material(absorption), max_order=max_order
    )
    desk = np.array([1.6 + rng.uniform(-0.3, 0.3), 2.2 + rng.uniform(-0.3, 0.3), 0.78])
    room.add_source(desk + np.array([0.0, 0.0, 0.02]))  # the speakers, under the keyboard
    room.add_microphone(desk + np.array([0.0, 0.22, 0.17]))  # the microphone, above the screen
    room.compute_rir()
    h = np.asarray(room.rir[0][0], dtype=np.float64)
    direct = int(np.argmax(np.abs(h)))
    h = h[max(0, direct - 24) :][: int(RESPONSE_SECONDS * SAMPLE_RATE)]
    sos = signal.butter(2, SPEAKER_BAND_HZ, btype="bandpass", fs=SAMPLE_RATE, output="sos")
    h = signal.sosfilt(sos, h)
    return h / np.sqrt(np.sum(h * h))


def active_level(pcm: np.ndarray) -> float:
    """A voice's level in dBFS: the RMS of its 20 ms frames within 30 dB of its loudest."""
    x = np.asarray(pcm, dtype=np.float64) / 32768.0
    frames = x[: len(x) // 480 * 480].reshape(-1, 480)
    power = np.mean(frames * frames, axis=1)
    if not len(power) or power.max() <= 0:
        return -120.0
    return float(10 * np.log10(np.mean(power[power >= power.max() / 1000])))


def at_level(pcm: np.ndarray, dbfs: float) -> np.ndarray:
    """`pcm` scaled to an active level of `dbfs`, as int16."""
    gain = 10 ** ((dbfs - active_level(pcm)) / 20)
    return np.clip(np.round(np.asarray(pcm, dtype=np.float64) * gain), -32768, 32767).astype(np.int16)


@dataclass(frozen=True)
class Laptop:
    """A laptop's speaker-to-microphone path: `coupling_db` of the played level, `delay_ms` late."""

    coupling_db: float = 0.0
    delay_ms: float = 80.0
    seed: int = 0

    def echo(self, played: np.ndarray) -> np.ndarray:
        """What the microphone hears of `played` (int16 or float, 24 kHz), as float in PCM16 units."""
        h = room_response(self.seed) * 10 ** (self.coupling_db / 20)
        delay = int(self.delay_ms * SAMPLE_RATE / 1000)
        x = np.asarray(played, dtype=np.float64)
        wet = signal.fftconvolve(x, h)[: len(x)]
        return np.concatenate([np.zeros(delay), wet])[: len(x)]


def room_script(
    audience_url: str, coupling_db: float | None = 0.0, delay_ms: float = 80.0, moving_ms: float = 0.0
) -> str:
    """A page init script: the fake microphone is the room (the page's own speaker through the
    laptop's echo path, plus the rehearsal audience's feed); `coupling_db` None is headphones (the
    microphone hears the audience only); `moving_ms`: every 2 s the echo's delay moves this much,
    up or down at random (within twice that of `delay_ms`), as a browser's output path does."""
    settings = {
        "feed": audience_url,
        "gain": 0.0 if coupling_db is None else 10 ** (coupling_db / 20),
        "delay": delay_ms / 1000,
        "moving": moving_ms / 1000,
        "response": [round(float(x), 6) for x in room_response()],
    }
    return f"({ROOM_SCRIPT})({json.dumps(settings)})"


ROOM_SCRIPT = """(room) => {
  const connect = AudioNode.prototype.connect;
  let mic = null; // the room's context, where the microphone's sound is mixed
  const speakers = new Map(); // a page context -> the tap on what it plays

  function theRoom() {
    if (mic) return mic;
    const ctx = new AudioContext({ sampleRate: 24000 }); // the room's response is made at 24 kHz
    const out = ctx.createMediaStreamDestination();
    const response = ctx.createBuffer(1, room.response.length, 24000);
    response.copyToChannel(Float32Array.from(room.response), 0);
    mic = { ctx, out, response, loud: [] };
    // The audience's feed (24 kHz PCM16 frames in real time): laughs, applause, heckles.
    const feed = new WebSocket(room.feed);
    feed.binaryType = "arraybuffer";
    let at = 0;
    feed.onmessage = (message) => {
      const pcm = new Int16Array(message.data);
      const buffer = ctx.createBuffer(1, pcm.length, 24000);
      const samples = buffer.getChannelData(0);
      let power = 0;
      for (let i = 0; i < pcm.length; i++) {
        samples[i] = pcm[i] / 32768;
        power += samples[i] * samples[i];
      }
      const source = ctx.createBufferSource();
      source.buffer = buffer;
      connect.call(source, out);
      at = Math.max(at, ctx.currentTime + 0.03);
      // when each loud frame of the audience enters the microphone, in page time (for the benches)
      if (power / pcm.length > 10 ** (-45 / 10)) {
        mic.loud.push(performance.now() + (at - ctx.currentTime) * 1000);
        if (mic.loud.length > 3000) mic.loud.shift();
      }
      source.start(at);
      at += buffer.duration;
    };
    mic.feed = feed;
    window.__room = mic;
    return mic;
  }

  function leak(node) {
    const r = theRoom();
    let tap = speakers.get(node.context);
    if (!tap) {
      tap = node.context.createMediaStreamDestination();
      speakers.set(node.context, tap);
      const heard = r.ctx.createMediaStreamSource(tap.stream);
      const chain = [
        r.ctx.createDelay(1),
        new ConvolverNode(r.ctx, { buffer: r.response, disableNormalization: true }),
        new GainNode(r.ctx, { gain: room.gain }),
      ];
      chain[0].delayTime.value = room.delay;
      if (room.moving) {
        setInterval(() => {
          const step = Math.random() < 0.5 ? -room.moving : room.moving;
          const next = chain[0].delayTime.value + step;
          const inside = Math.abs(next - room.delay) <= 2 * room.moving + 1e-9;
          chain[0].delayTime.value = inside ? next : chain[0].delayTime.value - step;
        }, 2000);
      }
      connect.call(heard, chain[0]);
      for (let i = 1; i < chain.length; i++) connect.call(chain[i - 1], chain[i]);
      connect.call(chain[chain.length - 1], r.out);
    }
    connect.call(node, tap);
  }

  // The speaker: whatever a page plays also reaches the room's microphone.
  AudioNode.prototype.connect = function (target, ...rest) {
    const result = connect.call(this, target, ...rest);
    if (target instanceof AudioDestinationNode && (!mic || this.context !== mic.ctx)) leak(this);
    return result;
  };

  const real = navigator.mediaDevices.getUserMedia.bind(navigator.mediaDevices);
  navigator.mediaDevices.getUserMedia = async (constraints) => {
    if (!constraints || !constraints.audio) return real(constraints);
    const r = theRoom();
    await r.ctx.resume();
    return r.out.stream;
  };
}"""
