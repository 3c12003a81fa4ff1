"""`python -m comedy.rehearsal --host 127.0.0.1 --port 8765`: serve the rehearsal comedian."""

from __future__ import annotations

import argparse
import asyncio
import contextlib

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
    args = parser.parse_args(argv)

    async def serve() -> None:
        server = RehearsalServer(args.host, args.port, pace=args.pace)
        server.faults.drop_after_deltas = args.drop_after_deltas
        server.faults.stall = args.stall
        server.faults.error_code = args.error
        server.faults.garbage = args.garbage
        async with server:
            print(f"Rehearsal server listening on {server.url}?model=gpt-realtime", flush=True)
            await asyncio.Future()

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve())


if __name__ == "__main__":
    main()
