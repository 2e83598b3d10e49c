"""Reading files with a progress bar: hashing locally, and streaming an upload."""

from __future__ import annotations

import hashlib
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, ProgressColumn, Task, TransferSpeedColumn
from rich.text import Text

CHUNK = 1024 * 1024


class SpeedColumn(TransferSpeedColumn):
    """The transfer speed once there is one to tell: nothing rather than "0 bytes/s" for a file
    sent before a speed could be measured (or "?" before the first bytes)."""

    def render(self, task: Task) -> Text:
        speed = task.finished_speed or task.speed
        return super().render(task) if speed else Text("")


class FramesColumn(ProgressColumn):
    """Frames done of frames in all ("120/200 frames"); nothing while the task is not counting
    frames (its field `frames` false: a copy anchored on chain once its frames are marked)."""

    def render(self, task: Task) -> Text:
        if not task.fields.get("frames", True):
            return Text("")
        total = "?" if task.total is None else f"{task.total:.0f}"
        return Text(f"{task.completed:.0f}/{total} frames", style="progress.download")


def progress() -> Progress:
    """A bar for bytes read or sent, on stderr: stdout is the command's answer, for pipes too."""
    return Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        DownloadColumn(),
        SpeedColumn(),
        transient=True,
        console=Console(stderr=True),
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
