"""A visitor that speaks Gradio's own HTTP protocol, as the browser's JS client does.

`gradio_client` cannot drive a `.stream` event (a microphone), so this small client does: upload,
queue/join, one POST per chunk to `stream/{event_id}`, and events read over SSE. The tests and the
benchmarks use it to be a visitor without a browser.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import subprocess
import uuid
from collections import defaultdict

import httpx
import numpy as np

from comedy.choices import DEFAULTS
from comedy.sound import audio
from comedy.web.ffmpeg import ensure_ffmpeg

DEFAULT_CHOICES = DEFAULTS  # the page's choices by name (`choice-NAME` on the page), as its events take them


def choices(**picked: str) -> list[str]:
    """The page's choices, by name (the rest as the page starts), as its events take them."""
    if unknown := set(picked) - set(DEFAULT_CHOICES):
        raise TypeError(f"the page has no choice named {', '.join(sorted(unknown))}")
    return [picked.get(name, default) for name, default in DEFAULT_CHOICES.items()]


def choice(name: str) -> str:
    """One of the page's choices as it starts."""
    return DEFAULT_CHOICES[name]


CHOICES = choices()


class BrowserLikeTransport(httpx.AsyncHTTPTransport):
    """Sends a request again, once, when its connection was closed or reset before any answer.

    Browsers do this for a reused keep-alive connection; httpx does not. The server closed the
    idle connection as the request went out (uvicorn's 5 s keep-alive), without reading it, so
    sending it again on a new connection cannot do anything twice.
    """

    requests = 0  # every HTTP request a visitor made, for the benchmarks

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        BrowserLikeTransport.requests += 1
        try:
            return await super().handle_async_request(request)
        except httpx.RemoteProtocolError as exc:
            if "without sending a response" not in str(exc):
                raise
        except (httpx.ReadError, httpx.WriteError):
            pass  # reset under the request: no answer began
        return await super().handle_async_request(request)


class Visitor:
    """One browser tab's worth of Gradio protocol, over httpx."""

    def __init__(self, base_url: str, heartbeat: bool = True, session_hash: str | None = None) -> None:
        self.base = base_url.rstrip("/")
        self.session_hash = session_hash or uuid.uuid4().hex[:11]
        self.heartbeat = heartbeat  # a hostile client may never open it
        # Idle connections go before uvicorn's 5 s keep-alive ends them; a late race is sent again.
        transport = BrowserLikeTransport(limits=httpx.Limits(keepalive_expiry=4))
        self.http = httpx.AsyncClient(timeout=30, transport=transport)
        self.config: dict = {}
        self.messages: dict[str, list[dict]] = defaultdict(list)  # by event_id
        self.playlist_url: str | None = None
        self._reader: asyncio.Task | None = None
        self._heartbeat: asyncio.Task | None = None
        self._beating = asyncio.Event()  # the heartbeat's first word came: the server counts the page open
        self._streaming = False
        self._arrived = asyncio.Event()

    async def __aenter__(self) -> Visitor:
        self.config = (await self.http.get(f"{self.base}/config")).json()
        # The page holds this stream open while the tab lives; closing it runs the unload events.
        if self.heartbeat:
            self._heartbeat = asyncio.create_task(self._beat())
        return self

    async def __aexit__(self, *exc: object) -> None:
        """Close the tab: the event stream and the heartbeat go, as when a browser tab closes."""
        for task in (self._reader, self._heartbeat):
            if task:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
        await self.http.aclose()

    async def _beat(self) -> None:
        url = f"{self.base}/gradio_api/heartbeat/{self.session_hash}"
        async with httpx.AsyncClient(timeout=None) as beat, beat.stream("GET", url) as stream:
            async for _ in stream.aiter_lines():
                self._beating.set()

    def fn_index(self, api_name: str) -> int:
        """The dependency index behind an api_name."""
        for index, dep in enumerate(self.config["dependencies"]):
            if dep.get("api_name") == api_name:
                return index
        raise KeyError(api_name)

    def component_id(self, label: str) -> int:
        """A component's id by its label."""
        for comp in self.config["components"]:
            if comp.get("props", {}).get("label") == label:
                return comp["id"]
        raise KeyError(label)

    async def open_page(self) -> None:
        """Until the page is open as the server counts it: its heartbeat is there (the engine's
        tokens are minted for open pages only)."""
        if not self.heartbeat:
            raise RuntimeError("a client with no heartbeat has no page open")
        async with asyncio.timeout(30):
            await self._beating.wait()

    async def updates(self) -> str:
        """Open the show's stream, as the page's press does beside the event it triggers."""
        return await self.join("updates", [])

    async def join(self, api_name: str, data: list, trigger_id: int | None = None) -> str:
        """Start an event; return its event_id. The SSE reader starts after the first join."""
        body = {
            "data": data,
            "fn_index": self.fn_index(api_name),
            "session_hash": self.session_hash,
            "trigger_id": trigger_id,
            "event_data": None,
        }
        # As a browser's JSON.stringify: non-ASCII escaped, so a lone surrogate travels as `\ud800`.
        response = await self.http.post(
            f"{self.base}/gradio_api/queue/join",
            content=json.dumps(body),
            headers={"Content-Type": "application/json"},
        )
        response.raise_for_status()
        event_id = response.json()["event_id"]
        if not self._streaming:
            # Gradio closes the stream when no event is pending; a new join opens a new one.
            self._streaming = True
            self._reader = asyncio.create_task(self._read())
        return event_id

    async def _read(self) -> None:
        url = f"{self.base}/gradio_api/queue/data?session_hash={self.session_hash}"
        async with httpx.AsyncClient(timeout=None) as sse, sse.stream("GET", url) as stream:
            async for line in stream.aiter_lines():
                if not line.startswith("data:"):
                    continue
                message = json.loads(line[5:])
                if message.get("msg") == "close_stream":
                    self._streaming = False
                    return
                self.messages[message.get("event_id", "")].append(message)
                output = message.get("output") or {}
                for value in output.get("data") or []:
                    if isinstance(value, dict) and str(value.get("url", "")).endswith(".m3u8"):
                        self.playlist_url = value["url"]
                self._arrived.set()

    async def wait_for(self, event_id: str, msg: str, timeout: float = 30) -> dict:
        """The first message `msg` of an event (e.g. process_completed)."""
        async with asyncio.timeout(timeout):
            while True:
                for message in self.messages.get(event_id, []):
                    if message.get("msg") == msg:
                        return message
                self._arrived.clear()
                await self._arrived.wait()

    async def call(self, api_name: str, data: list, timeout: float = 30) -> list:
        """Run a plain (non-stream) event to completion; return its output data."""
        event_id = await self.join(api_name, data)
        done = await self.wait_for(event_id, "process_completed", timeout)
        assert done.get("success", True), done
        return done["output"].get("data", [])

    async def upload(self, pcm: np.ndarray, rate: int) -> dict:
        """Upload a mono int16 chunk as the browser's recorder does: a WAV file."""
        files = {"files": ("audio.wav", audio.wav_bytes(pcm, rate), "audio/wav")}
        response = await self.http.post(f"{self.base}/gradio_api/upload", files=files)
        response.raise_for_status()
        return {
            "path": response.json()[0],
            "orig_name": "audio.wav",
            "mime_type": "audio/wav",
            "meta": {"_type": "gradio.FileData"},
        }

    async def speak(
        self,
        pcm: np.ndarray,
        rate: int = 48_000,
        chunk_s: float = 0.1,
        realtime: bool = True,
        until: asyncio.Event | None = None,
    ) -> int:
        """Stream a recording into the microphone event in chunks; return chunks sent.

        With `until`, recording stops early once it is set, as when a visitor clicks stop.
        """
        fn, mic = self.fn_index("hear"), self.component_id("Your microphone")
        step = int(rate * chunk_s)
        event_id = None
        sent = 0
        for start in range(0, len(pcm), step):
            if until is not None and until.is_set():
                break
            data = [await self.upload(pcm[start : start + step], rate)]
            body = {
                "data": data,
                "fn_index": fn,
                "session_hash": self.session_hash,
                "trigger_id": mic,
                "event_data": None,
            }
            if event_id is None:
                event_id = await self.join("hear", data, mic)
            else:
                response = await self.http.post(
                    f"{self.base}/gradio_api/stream/{event_id}", json={**body, "event_id": event_id}
                )
                response.raise_for_status()
            sent += 1
            if realtime:
                await asyncio.sleep(chunk_s)
        if event_id is not None:
            await self.http.post(f"{self.base}/gradio_api/stream/{event_id}/close")
        return sent

    async def take_a_seat(self, choices: list[str], timeout: float = 60) -> str:
        """Open the speaker stream and start a set, as the page does; a refusal raises with its words."""
        await self.join("speaker", [])
        status = (await self.call("start", choices, timeout=timeout))[0]
        if "full" in status or "Not connected" in status:
            raise RuntimeError(status)
        return status

    async def segments_served(self) -> int:
        """How many HLS segments the speaker stream has served so far (0 before it starts)."""
        if self.playlist_url is None:
            return 0
        playlist = (await self.http.get(self.playlist_url)).text
        return sum(1 for line in playlist.splitlines() if line and not line.startswith("#"))

    async def heard_audio(self) -> np.ndarray:
        """Everything the speaker stream has served so far, decoded from its AAC segments."""
        if self.playlist_url is None:
            return np.zeros(0, np.int16)
        playlist = (await self.http.get(self.playlist_url)).text
        base = self.playlist_url.rsplit("/", 1)[0]
        segments = [line for line in playlist.splitlines() if line and not line.startswith("#")]
        data = b""
        for segment in segments:
            url = segment if segment.startswith("http") else f"{base}/{segment}"
            data += (await self.http.get(url)).content
        return decode_aac(data)


def decode_aac(data: bytes, rate: int = 24_000) -> np.ndarray:
    """ADTS AAC bytes -> mono int16 at `rate`, through the same ffmpeg Gradio uses."""
    if not data:
        return np.zeros(0, np.int16)
    ffmpeg = ensure_ffmpeg()
    result = subprocess.run(
        [
            ffmpeg,
            "-hide_banner",
            "-loglevel",
            "error",
            "-f",
            "aac",
            "-i",
            "pipe:0",
            "-f",
            "s16le",
            "-ac",
            "1",
            "-ar",
            str(rate),
            "pipe:1",
        ],
        input=data,
        capture_output=True,
        check=True,
        timeout=60,
    )
    return np.frombuffer(result.stdout, dtype="<i2")
