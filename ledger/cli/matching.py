"""`reelledger match FILE`: which registered work a suspect copy is, and where in it.

The copy is hashed here (a progress bar follows the video's time) and only its frame
hashes go to the service (about 5 KB a minute of video); `--upload` sends the file itself
instead. Either way a copy is matched by its first hour."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

from ledger.cli.client import _call, console, counted, err, facts_table
from ledger.cli.files import ProgressReader, progress

if TYPE_CHECKING:
    from watermark.hash_sequence import HashSequence


def _clock(seconds: float) -> str:
    """h:mm:ss.sss; negative when the copy starts before the work does (a pre-roll, say)."""
    minutes, s = divmod(abs(seconds), 60)
    h, m = divmod(int(minutes), 60)
    return f"{'-' if seconds < 0 else ''}{h}:{m:02d}:{s:06.3f}"


def hash_with_progress(file: Path, registered: bool = False) -> HashSequence:
    """The file's query (or, with `registered`, registration) frame hashes, with a progress bar."""
    from ledger.matching import MAX_QUERY_SECONDS
    from watermark.errors import WatermarkError
    from watermark.frame_hashes import REGISTERED_VARIANTS
    from watermark.hash_sequence import hash_file, query_sequence

    columns = (
        "[progress.description]{task.description}",
        BarColumn(),
        TextColumn("{task.fields[at]}"),
        TimeRemainingColumn(),
    )
    with Progress(*columns, transient=True, console=err) as bar:
        task = bar.add_task("hashing frames", total=None, at="")

        def moved(done: float, total: float | None) -> None:
            bar.update(task, completed=done, total=total, at=video_read(done, total))

        try:
            if registered:
                hashed = hash_file(file, REGISTERED_VARIANTS, moved)
            else:
                hashed = query_sequence(file, moved, seconds=MAX_QUERY_SECONDS)
        except WatermarkError as exc:
            err.print(f"[red]reelledger:[/red] {exc}")
            raise typer.Exit(1) from None
        total = bar.tasks[0].total  # the last frame sampled is short of the end: the bar ends full
        bar.update(task, completed=total or 1, total=total or 1, at=video_read(total or 0, total))
        return hashed


def video_read(done: float, total: float | None) -> str:
    """How much of the video is read, in seconds of it: "3.6 of 4.6 s of video"."""
    return f"{done:.1f} of {total:.1f} s of video" if total else f"{done:.1f} s of video"


def match(
    file: Path = typer.Argument(..., exists=True, dir_okay=False, readable=True, help="A suspect image or video."),
    upload: bool = typer.Option(False, help="Send the file itself; the service hashes it."),
    as_json: bool = typer.Option(False, "--json", help="Print the service's answer as JSON."),
) -> None:
    """Match FILE against the registered works: the work, the offset of FILE inside it, and
    the work's registration on chain. Needs a crawler's or a rights holder's API key."""
    if upload:
        with progress() as bar:
            reader = ProgressReader(file, bar, "uploading")
            try:
                found = _call("POST", "/match", files={"file": (file.name, reader)})
            finally:
                reader.close()
    else:
        found = _call("POST", "/match", json={"frames": hash_with_progress(file).to_json()})
    if as_json:
        console.print_json(json.dumps(found))
        return
    q = found["query"]
    heard = f"{q['frames_usable']} of {counted(q['frames_sampled'], 'frame')} usable, {q['duration_seconds']:.1f} s"
    if not found["matched"]:
        console.print(f"no match ({heard})")
        return
    work = found["work"]
    agreeing = found["frames_agreeing"]
    agree = f"{counted(agreeing, 'frame')} {'agrees' if agreeing == 1 else 'agree'}"
    table = facts_table()
    rows = [
        ("work id", work["work_id"]),
        ("title", work["title"]),
        ("offset", f"{_clock(found['offset_seconds'])} into the work"),
        (
            "matched",
            f"{found['duration_seconds']:.1f} s of the copy ({agree}; {heard})",
        ),
        ("speed", f"{found['speed']:.3f}x"),
        ("confidence", f"{found['confidence']:.2f}"),
        ("on chain", f"{work['chain']['status']} in WorkRegistry {work['registry']}, tx {work['chain']['tx_hash']}"),
    ]
    for label, value in rows:
        table.add_row(label, value)
    console.print(table)
