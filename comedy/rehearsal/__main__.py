"""`python -m comedy.rehearsal --host 127.0.0.1 --port 8765`: serve the rehearsal comedian."""

from __future__ import annotations

import argparse
import asyncio
import contextlib

from comedy.realtime.models import DEFAULT_MODEL
from comedy.rehearsal.server import RehearsalServer


def main(argv: list[str] | None = None) -> None:
    """Run the rehearsal server until interrupted."""
    parser = argparse.ArgumentParser(prog="python -m comedy.rehearsal", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default: loopback)")
    parser.add_argument("--port", type=int, default=8765, help="port (0 picks a free one)")
    parser.add_argument(
        "--pace", type=float, default=1.0, help="audio speed against real time; 0 sends as fast as possible"
    )
    parser.add_argument(
        "--drop-after-deltas",
        type=int,
        default=None,
        help="fault: cut the socket after N audio deltas of the next answer",
    )
    parser.add_argument("--stall", action="store_true", help="fault: the next answer never comes")
    parser.add_argument(
        "--error",
        choices=["rate_limit_exceeded", "server_error"],
        help="fault: answer the next response.create with this error",
    )
    parser.add_argument(
        "--garbage", action="store_true", help="fault: send frames no client can read before the next answer"
    )
    parser.add_argument(
        "--content-filter",
        action="store_true",
        help="fault: the next answer stops halfway, cut by the filter",
    )
    parser.add_argument(
        "--failed", action="store_true", help="fault: the next answer ends with status failed"
    )
    parser.add_argument(
        "--refuse-prompts",
        action="store_true",
        help="refuse session.prompt as the API does since stored prompts ended (2026-11-30)",
    )
    parser.add_argument(
        "--preambles",
        action="store_true",
        help="answer as 2.x models may: a short preamble item, then the joke",
    )
    args = parser.parse_args(argv)

    async def serve() -> None:
        server = RehearsalServer(args.host, args.port, pace=args.pace)
        server.conduct.faults.drop_after_deltas = args.drop_after_deltas
        server.conduct.faults.stall = args.stall
        server.conduct.faults.error_code = args.error
        server.conduct.faults.garbage = args.garbage
        server.conduct.faults.incomplete = "content_filter" if args.content_filter else None
        server.conduct.faults.failed = args.failed
        server.conduct.refuse_prompts, server.conduct.preambles = args.refuse_prompts, args.preambles
        async with server:
            print(f"Rehearsal server listening on {server.url}?model={DEFAULT_MODEL}", flush=True)
            await asyncio.Future()

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve())


if __name__ == "__main__":
    main()
