"""`python -m bench`: every benchmark, one after another, each printing its table (about 25 minutes)."""

from __future__ import annotations

import time

from bench import (
    audio_path,
    browser,
    echo,
    hearing,
    latency,
    laughter,
    load,
    memory,
    opener,
    soak,
    startup,
    throughput,
    visitors,
)


def main() -> None:
    """Run all thirteen figures."""
    start = time.monotonic()
    audio_path.run()
    latency.run()
    throughput.run()
    visitors.run()
    startup.run()
    memory.run()
    browser.run()
    load.run()
    soak.run()
    laughter.run()
    opener.run()
    echo.run()
    hearing.run()
    print(f"\nAll benchmarks took {time.monotonic() - start:.0f} s.")


if __name__ == "__main__":
    main()
