"""Reading files with a progress bar: hashing locally, and streaming an upload."""

from __future__ import annotations

import hashlib
from pathlib import Path

from rich.progress import BarColumn, DownloadColumn, Progress, TransferSpeedColumn

CHUNK = 1024 * 1024


def progress() -> Progress:
    return Progress(
        "[progress.description]{task.description}", BarColumn(), DownloadColumn(), TransferSpeedColumn(), transient=True
    )


def sha256_file(path: Path, label: str = "hashing") -> bytes:
    digest = hashlib.sha256()
    with progress() as bar, open(path, "rb") as fh:
        task = bar.add_task(label, total=path.stat().st_size)
        while chunk := fh.read(CHUNK):
            digest.update(chunk)
            bar.advance(task, len(chunk))
    return digest.digest()


class ProgressReader:
    """A file object that moves a progress bar as the HTTP client streams it."""

    def __init__(self, path: Path, bar: Progress, label: str) -> None:
        self._fh = open(path, "rb")
        self._bar = bar
        self._task = bar.add_task(label, total=path.stat().st_size)

    def read(self, size: int = -1) -> bytes:
        chunk = self._fh.read(CHUNK if size is None or size < 0 else size)
        self._bar.advance(self._task, len(chunk))
        return chunk

    def close(self) -> None:
        self._fh.close()
