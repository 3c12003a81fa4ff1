"""A short load run: many visitors at once, then nothing left behind (sockets, tasks, threads)."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

from tests.club import launch

ROOT = Path(__file__).resolve().parents[1]
VISITORS = 12


def _sockets() -> int:
    count = 0
    for fd in os.listdir("/proc/self/fd"):
        try:
            count += os.readlink(f"/proc/self/fd/{fd}").startswith("socket:")
        except OSError:
            continue
    return count


def _threads() -> int:
    """Threads that are not idle pool workers (AnyIO's and the loops' executors keep a few)."""
    pools = ("AnyIO worker thread", "asyncio_", "ThreadPoolExecutor")
    return sum(1 for t in threading.enumerate() if not t.name.startswith(pools))


def _rehearsal_tasks(running) -> int:
    loop = running.rehearsal._loop

    async def count() -> int:
        return len(asyncio.all_tasks())

    return asyncio.run_coroutine_threadsafe(count(), loop).result(5)


def test_a_crowd_leaves_no_sockets_tasks_or_threads_behind() -> None:
    for running in launch(pace=2.0, COMEDY_MAX_SETS="30"):
        time.sleep(1)
        before = (_sockets(), _threads(), _rehearsal_tasks(running))
        crowd = subprocess.run(
            [sys.executable, "-m", "bench.visitors", "--crowd", running.url, str(VISITORS)],
            cwd=ROOT,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
            capture_output=True,
            text=True,
            timeout=180,
        )
        results = json.loads(crowd.stdout)
        errors = [r["error"] for r in results if not r["ok"]]
        assert errors == [], errors[:3]
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            after = (_sockets(), _threads(), _rehearsal_tasks(running))
            if after[0] <= before[0] + 2 and after[1] <= before[1] and after[2] <= before[2]:
                break
            time.sleep(0.5)
        print(f"{VISITORS} visitors; sockets/threads/tasks before {before}, after {after}")
        assert not running.app.club.sets  # every set ended and was let go
        assert after[0] <= before[0] + 2, f"sockets left open: {before[0]} -> {after[0]}"
        assert after[1] <= before[1], f"threads left running: {before[1]} -> {after[1]}"
        assert after[2] <= before[2], f"rehearsal tasks left: {before[2]} -> {after[2]}"
