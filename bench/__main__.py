"""`python -m bench`: every benchmark, one after another, each printing its table (about 45 minutes)."""

from __future__ import annotations

import time

from bench import (
    audio_path,
    browser,
    crowd,
    echo,
    first_press,
    hearing,
    humour,
    latency,
    laughter,
    load,
    memory,
    opener,
    room_live,
    soak,
    startup,
    think,
    throughput,
    visitors,
)


def main() -> None:
    """Run all sixteen figures, the think time, and the humour bench (with a key)."""
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
    first_press.run()
    think.run()
    crowd.run()
    room_live.run()
    humour.run([])  # live only (it says so without a key; `python -m bench.humour --dry-run` runs offline)
    print(f"\nAll benchmarks took {time.monotonic() - start:.0f} s.")


if __name__ == "__main__":
    main()
