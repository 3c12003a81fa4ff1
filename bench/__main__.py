"""`python -m bench`: every benchmark, one after another, each printing its table (about 6 minutes)."""

from __future__ import annotations

import time

from bench import audio_path, browser, latency, memory, startup, throughput, visitors


def main() -> None:
    """Run all seven figures."""
    start = time.monotonic()
    audio_path.run()
    latency.run()
    throughput.run()
    visitors.run()
    startup.run()
    memory.run()
    browser.run()
    print(f"\nAll benchmarks took {time.monotonic() - start:.0f} s.")


if __name__ == "__main__":
    main()
