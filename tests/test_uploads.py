"""Uploaded files are deleted once old, even while uploads keep arriving."""

from __future__ import annotations

import threading
from pathlib import Path

from comedy.venue.uploads import delete_old_files


def _files(tmp_path: Path, count: int, prefix: str = "chunk") -> set[str]:
    names = set()
    for i in range(count):
        path = tmp_path / f"{prefix}{i}.wav"
        path.write_bytes(b"RIFF")
        names.add(str(path))
    return names


def test_old_files_go_young_and_kept_files_stay(tmp_path: Path) -> None:
    files = _files(tmp_path, 5)
    assert delete_old_files([files], age_s=3600) == 0 and len(files) == 5  # all young
    kept = sorted(files)[0]
    assert delete_old_files([files], age_s=-1, keep={kept}) == 4
    assert files == {kept} and [p.name for p in tmp_path.iterdir()] == [Path(kept).name]


def test_a_file_already_gone_is_forgotten(tmp_path: Path) -> None:
    files = _files(tmp_path, 2)
    Path(sorted(files)[0]).unlink()
    assert delete_old_files([files], age_s=-1) == 1 and files == set()


def test_sweeping_while_uploads_arrive_does_not_fail(tmp_path: Path) -> None:
    """Gradio's own sweep dies here with "Set changed size during iteration"."""
    files = _files(tmp_path, 200)
    stop = threading.Event()

    def uploads() -> None:
        n = 0
        while not stop.is_set():
            files.update(_files(tmp_path, 5, prefix=f"new{n}-"))
            n += 1

    adder = threading.Thread(target=uploads)
    adder.start()
    try:
        deleted = sum(delete_old_files([files], age_s=-1) for _ in range(20))
    finally:
        stop.set()
        adder.join()
    assert deleted >= 200
    deleted += delete_old_files([files], age_s=-1)
    assert files == set() and not any(tmp_path.iterdir())
