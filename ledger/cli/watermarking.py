"""Watermark commands: distributions through the service, and embed / detect on files.

`watermark embed` and `watermark detect --key-file` work on this machine alone, with a key
file of one's own; `watermark detect` without a key file asks the service which
distribution a copy came from.
"""

from __future__ import annotations

import json
import os
import secrets
import time
from pathlib import Path
from typing import Any

import httpx
import typer
from rich.progress import BarColumn, Progress, TimeRemainingColumn
from rich.text import Text

from ledger.cli.client import (
    Facts,
    _call,
    _client,
    console,
    counted,
    err,
    facts_table,
    listing,
    moment,
    said,
    unanswered,
    work_titles,
)
from ledger.cli.files import FramesColumn, ProgressReader, progress
from ledger.distributions.screens import ScreenHint, parse_screen
from ledger.errors import InvalidInput

distributions = typer.Typer(no_args_is_help=True, help="Watermarked copies of your works for platforms.")
watermark = typer.Typer(no_args_is_help=True, help="Embed and detect the invisible watermark.")


def _frames_bar() -> Progress:
    return Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        FramesColumn(),
        TimeRemainingColumn(),
        transient=True,
        console=err,  # stdout is the command's answer
    )


def _show_distribution(d: dict[str, Any]) -> None:
    console.print(Text(f"distribution {d['id']}: " + d["status"] + (f" ({d['error']})" if d.get("error") else "")))
    table = facts_table()
    rows = [
        ("work id", d["work_id"]),
        ("platform", f"{d['platform']['name']} ({d['platform']['address']})"),
        ("session", d["session"] or "-"),
        ("tier", d["tier"] or "-"),
        ("payload", d["payload"]),
        ("record hash", d["record_hash"] or "-"),
        ("anchor tx", (d.get("chain") or {}).get("tx_hash") or "-"),
    ]
    if d.get("copy"):
        rows.append(("copy", f"{d['copy']['sha256']} ({counted(d['copy']['size'], 'byte')})"))
    for label, value in rows:
        table.add_row(label, value)
    console.print(table)


def _follow(dist: dict[str, Any]) -> dict[str, Any]:
    """Poll a distribution until its copy is made and anchored, with a progress bar."""
    with _frames_bar() as bar:
        task = bar.add_task("marking", total=None)
        while dist["status"] in ("embedding", "anchoring"):
            done, total = dist["progress"]["frames_done"], dist["progress"]["frames_total"]
            marking = dist["status"] == "embedding"
            bar.update(
                task,
                completed=done,
                total=total,
                frames=marking,
                description="marking" if marking else f"{counted(done, 'frame')} marked; anchoring on chain",
            )
            time.sleep(0.5)
            dist = _call("GET", f"/distributions/{dist['id']}")
    return dist


def _download(dist_id: int, out: Path) -> None:
    try:
        with _client() as client, client.stream("GET", f"/distributions/{dist_id}/copy") as response:
            if response.status_code >= 400:
                response.read()
                message = response.json().get("error", {}).get("message", response.text)
                err.print(f"[red]refused ({response.status_code}):[/red] {message}")
                raise typer.Exit(1)
            partial = out.with_name(out.name + ".partial")
            with progress() as bar, open(partial, "wb") as fh:
                task = bar.add_task("downloading", total=int(response.headers.get("content-length", 0)) or None)
                for chunk in response.iter_bytes(1 << 20):
                    fh.write(chunk)
                    bar.advance(task, len(chunk))
            partial.replace(out)
    except httpx.TransportError as exc:
        err.print(f"[red]reelledger:[/red] {unanswered(exc)}")
        raise typer.Exit(1) from None
    console.print(f"copy written to {out}")


@distributions.command("create")
def create(
    work_id: str,
    master: Path = typer.Argument(
        ..., exists=True, dir_okay=False, readable=True, help="The work's registered master file."
    ),
    platform: str = typer.Option(..., help="The receiving platform's account name or address."),
    session: str = typer.Option(None, help="A playback session or delivery."),
    tier: str = typer.Option(None, help="A user tier."),
    out: Path = typer.Option(None, help="Where to write the watermarked copy once it is made."),
    wait: bool = typer.Option(True, help="Follow the marking and anchoring to the end."),
    idempotency_key: str = typer.Option(None, help="Retrying with the same key creates nothing twice."),
) -> None:
    """Distribute a work to a platform: its copy carries a payload of its own, anchored on chain."""
    headers = {"Idempotency-Key": idempotency_key} if idempotency_key else {}
    fields = {"platform": platform, "session": session, "tier": tier}
    with progress() as bar:
        reader = ProgressReader(master, bar, "uploading")
        try:
            dist = _call(
                "POST",
                f"/works/{work_id}/distributions",
                files={"file": (master.name, reader)},
                data={"distribution": json.dumps(fields)},
                headers=headers,
            )
        finally:
            reader.close()
    if wait:
        dist = _follow(dist)
    _show_distribution(dist)
    if dist["status"] == "failed":
        raise typer.Exit(1)
    if out is not None and dist.get("copy"):
        _download(dist["id"], out)


@distributions.command("show")
def show(dist_id: int) -> None:
    _show_distribution(_call("GET", f"/distributions/{dist_id}"))


@distributions.command("list")
def list_distributions(work_id: str = typer.Option(None), offset: int = 0, limit: int = 50) -> None:
    params = {k: v for k, v in {"work_id": work_id, "offset": offset, "limit": limit}.items() if v is not None}
    page = _call("GET", "/distributions", params=params)
    table = listing("id", "work id", "platform", "session", "payload", "status")
    for d in page["items"]:
        table.add_row(str(d["id"]), d["work_id"], d["platform"]["name"], d["session"] or "-", d["payload"], d["status"])
    console.print(table)
    console.print(f"{len(page['items'])} of {page['total']}")


@distributions.command("download")
def download(dist_id: int, out: Path) -> None:
    """Write the watermarked copy of a distribution to OUT."""
    _download(dist_id, out)


# ---------------------------------------------------------------- standalone


def _read_key(path: Path) -> bytes:
    try:
        text = path.read_text().strip()
        key = bytes.fromhex(text.removeprefix("0x"))
    except (OSError, UnicodeDecodeError, ValueError):
        err.print(f"[red]reelledger:[/red] {path} is not a key file (64 hexadecimal characters)")
        raise typer.Exit(2) from None
    if len(key) < 16:
        err.print(f"[red]reelledger:[/red] the key in {path} is shorter than 16 bytes")
        raise typer.Exit(2)
    return key


def _payload(text: str) -> int:
    try:
        return int(text, 0)
    except ValueError:
        err.print(f"[red]reelledger:[/red] --payload {text!r} is not a number (decimal or 0x hex)")
        raise typer.Exit(2) from None


@watermark.command("keygen")
def keygen(out: Path = typer.Argument(..., help="New key file (written 0600, never overwritten).")) -> None:
    """Make a random 256-bit watermark key for standalone embed and detect."""
    try:
        fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        err.print(f"[red]reelledger:[/red] {out} exists; a key file is never overwritten")
        raise typer.Exit(2) from None
    with os.fdopen(fd, "w") as fh:
        fh.write(secrets.token_hex(32) + "\n")
    console.print(f"key written to {out}")


@watermark.command("embed")
def embed(
    source: Path = typer.Argument(..., exists=True, dir_okay=False, readable=True),
    out: Path = typer.Argument(..., help="The marked copy: .png (or another image suffix) for images, .mp4 for video."),
    payload: str = typer.Option(..., help="48-bit payload, decimal or 0x hex."),
    key_file: Path = typer.Option(..., exists=True, dir_okay=False, help="A key file from `watermark keygen`."),
) -> None:
    """Mark an image or a video with a payload, on this machine, without the service."""
    from watermark.errors import WatermarkError
    from watermark.files import embed_file

    key, value = _read_key(key_file), _payload(payload)
    with _frames_bar() as bar:
        task = bar.add_task("marking", total=None)
        try:
            result = embed_file(
                source, out, value, key, progress=lambda done, total: bar.update(task, completed=done, total=total)
            )
        except WatermarkError as exc:
            err.print(f"[red]reelledger:[/red] {exc}")
            raise typer.Exit(1) from None
    psnr = f", PSNR {result.psnr:.1f} dB" if result.psnr is not None else ""
    console.print(
        Text(f"marked {result.kind} {result.width}x{result.height}, {counted(result.frames, 'frame')}{psnr} -> {out}")
    )


@watermark.command("detect")
def detect(
    file: Path = typer.Argument(..., exists=True, dir_okay=False, readable=True),
    key_file: list[Path] = typer.Option([], help="Detect here with these key files instead of asking the service."),
    seconds: float = typer.Option(60.0, help="Seconds of video to read at most."),
    screen: str = typer.Option(
        None,
        help="A copy filmed off a screen whose outline is not found by itself: the marked picture's corners in "
        "the copy, in pixels, top-left, top-right, bottom-right, bottom-left, as 'X,Y X,Y X,Y X,Y' (with "
        "--marked-size).",
    ),
    marked_size: str = typer.Option(None, help="With --screen: the size the picture was marked at, as WIDTHxHEIGHT."),
) -> None:
    """Which distribution a copy came from (through the service), or its payload under a key file."""
    try:
        where = parse_screen(screen, marked_size)
    except InvalidInput as exc:
        message = exc.message.replace("marked_size", "--marked-size").replace("screen", "--screen", 1)
        err.print(f"[red]reelledger:[/red] {message}")
        raise typer.Exit(2) from None
    if key_file:
        _detect_here(file, [_read_key(k) for k in key_file], seconds, where)
        return
    params: dict[str, str | float] = {"seconds": seconds}
    if where is not None:
        params.update(screen=screen, marked_size=marked_size)
    with progress() as bar:
        reader = ProgressReader(file, bar, "uploading")
        try:
            found = _call("POST", "/detect", files={"file": (file.name, reader)}, params=params)
        finally:
            reader.close()
    mark = found["watermark"]
    colluders = found.get("colluders") or []
    titles = work_titles({c["distribution"]["work_id"] for c in colluders} | _work_of(found.get("distribution")))
    for c in colluders:
        d = c["distribution"]
        said(
            Text.assemble((f"colluder: distribution {d['id']}", "bold"), f" of work {_work(d['work_id'], titles)}"),
            ("platform", d["platform"]["name"]),
            *([("session", d["session"])] if d["session"] else []),
            ("payload", f"{d['payload']}, score {c['score']}"),
        )
    reading = f"sync {mark['sync']}, {counted(mark['frames'], 'frame')}, {counted(mark['keys_tried'], 'key')} tried"
    if not mark["found"]:
        console.print(f"no single mark read ({reading})" if colluders else f"no mark found ({reading})")
        raise typer.Exit(0 if colluders else 3)
    dist = found["distribution"]
    if dist is None:
        console.print(f"payload {mark['payload']} read, but no distribution of the ledger carries it")
        raise typer.Exit(0 if colluders else 3)
    chain = found.get("on_chain")
    if chain is None:
        on_chain = "the chain did not answer; the record could not be checked"
    elif chain["record_hash_matches"]:
        on_chain = f"the record, anchored {moment(chain['anchored_at'])}, matches"
    else:
        on_chain = f"the record is {'not anchored' if not chain['anchored'] else 'different'}"
    said(
        Text.assemble((f"distribution {dist['id']}", "bold"), f" of work {_work(dist['work_id'], titles)}"),
        ("work id", dist["work_id"]),
        ("platform", f"{dist['platform']['name']} {dist['platform']['address']}"),
        *([("session", dist["session"])] if dist["session"] else []),
        *([("tier", dist["tier"])] if dist["tier"] else []),
        ("payload", f"{mark['payload']}, confidence {mark['confidence']}, sync {mark['sync']}"),
        ("read from", counted(mark["frames"], "frame")),
        ("on chain", on_chain),
        ("record", dist["record_hash"] or "-"),
    )


def _work_of(dist: dict[str, Any] | None) -> set[str]:
    return {dist["work_id"]} if dist else set()


def _work(work_id: str, titles: dict[str, str]) -> str:
    """A work by its title and shortened id when you may read it, else by its id."""
    from ledger.piracy.notices import short_id

    return f"{titles[work_id]} {short_id(work_id)}" if work_id in titles else work_id


def _detect_here(
    file: Path,
    keys: list[bytes],
    seconds: float,
    screen: ScreenHint | None = None,
) -> None:
    from watermark.errors import WatermarkError
    from watermark.files import detect_file, marked_screen

    with _frames_bar() as bar:
        task = bar.add_task("reading", total=None)
        try:
            found = detect_file(
                file,
                keys,
                max_seconds=seconds,
                progress=lambda done, total: bar.update(task, completed=done, total=total),
                screen=marked_screen(file, screen.corners, screen.marked_size) if screen else None,
            )
        except WatermarkError as exc:
            err.print(f"[red]reelledger:[/red] {exc}")
            raise typer.Exit(1) from None
    if found.payload is None:
        console.print(f"no mark found (sync {found.sync:.1f}, {counted(found.frames, 'frame')})")
        raise typer.Exit(3)
    assert found.key_index is not None  # given with a payload
    console.print(
        f"payload 0x{found.payload:012x} (key {found.key_index + 1} of {len(keys)}), "
        f"confidence {found.confidence:.3f}, sync {found.sync:.1f}, {counted(found.frames, 'frame')}"
    )


@watermark.command("attack")
def attack(
    source: Path = typer.Argument(
        None, exists=True, dir_okay=False, readable=True, help="The copy to attack (not needed by --attack list)."
    ),
    out: Path = typer.Argument(None, help="The attacked copy: .mp4 for video, an image suffix for images."),
    name: str = typer.Option(..., "--attack", help="An attack by name; `--attack list` names them all."),
    start: float = typer.Option(None, help="Video: cut from this second (default: the middle, for excerpts)."),
    seconds: float = typer.Option(None, help="Video: keep at most this many seconds."),
) -> None:
    """Do to a copy what a pirate would (re-encode, crop, rescale, cut an excerpt ...), to see
    for yourself what the mark survives. Video goes through H.264 (libx264) with PyAV."""
    from watermark.attacks import ATTACKS
    from watermark.errors import WatermarkError
    from watermark.files import media_kind
    from watermark.video_attacks import ALL_ATTACKS, transcode

    if name == "list" and source is None:  # the names need no file: list both kinds
        _list_attacks("video", ALL_ATTACKS)
        _list_attacks("image", ATTACKS)
        return
    if source is None or out is None:
        err.print("[red]reelledger:[/red] give SOURCE and OUT, the copy to attack and where to write the attacked one")
        raise typer.Exit(2)
    try:
        kind = media_kind(source)
    except WatermarkError as exc:
        err.print(f"[red]reelledger:[/red] {exc}")
        raise typer.Exit(1) from None
    known = ALL_ATTACKS if kind == "video" else ATTACKS
    if name not in known:
        listing = ", ".join(known)
        if name == "list":
            _list_attacks(kind, known)
            return
        err.print(f"[red]reelledger:[/red] no {kind} attack {name!r}; known: {listing}")
        raise typer.Exit(2)
    if kind == "video":
        if start is not None and start < 0 or seconds is not None and seconds <= 0:
            err.print("[red]reelledger:[/red] --start must be 0 or more and --seconds more than 0")
            raise typer.Exit(2)
        import av

        try:
            transcode(source, out, ALL_ATTACKS[name], start=start, seconds=seconds)
        except (ValueError, OSError, av.FFmpegError) as exc:
            err.print(f"[red]reelledger:[/red] {source}: {exc}")
            raise typer.Exit(1) from None
    else:
        import cv2

        picture = cv2.imread(str(source), cv2.IMREAD_COLOR)
        if picture is None:
            err.print(f"[red]reelledger:[/red] {source} could not be decoded")
            raise typer.Exit(1)
        changed = ATTACKS[name](cv2.cvtColor(picture, cv2.COLOR_BGR2RGB))
        if not cv2.imwrite(str(out), cv2.cvtColor(changed, cv2.COLOR_RGB2BGR)):
            err.print(f"[red]reelledger:[/red] cannot write {out} (is its suffix an image format?)")
            raise typer.Exit(1)
    console.print(f"{name} -> {out}")


def _list_attacks(kind: str, attacks: dict[str, Any]) -> None:
    """The attacks of a kind, one a line, each with its description when it has one."""
    console.print(f"{kind} attacks:")
    table = Facts(indent=2, style="")
    for name, attack in attacks.items():
        table.add_row(name, _description(attack))
    console.print(table)


def _description(attack: Any) -> str:
    """An attack's own description: the first paragraph of its docstring, or its `description`."""
    text = getattr(attack, "description", None) or ""
    doc = getattr(attack, "__doc__", None) or ""
    if not text and doc and not doc.startswith(type(attack).__name__ + "("):  # a dataclass's generated doc
        text = " ".join(doc.strip().split("\n\n")[0].split())
    return str(text)


@watermark.command("footage")
def footage(
    out: Path = typer.Argument(..., help="The .mp4 to write."),
    seconds: float = typer.Option(20.0, min=1.0, max=3600.0),
    width: int = typer.Option(1280, min=256, max=3840),
    height: int = typer.Option(720, min=192, max=2160),
    seed: int = typer.Option(
        0, help="Each shot frames its photograph at random from this seed; other seeds, other footage."
    ),
) -> None:
    """Sample footage to try things with: pans, zooms and cuts over scikit-image's bundled
    photographs, every shot framed anew so no stretch repeats, with a sine-tone audio track
    (nothing is downloaded)."""
    try:
        from watermark.testvideos import photo_footage
    except ImportError as exc:
        err.print(f"[red]reelledger:[/red] sample footage needs scikit-image ({exc}); scripts/setup installs it")
        raise typer.Exit(1) from None
    if width % 2 or height % 2:
        err.print("[red]reelledger:[/red] --width and --height must be even (4:2:0 H.264)")
        raise typer.Exit(2)
    photo_footage(out, width=width, height=height, seconds=seconds, audio=True, seed=seed)
    console.print(f"{width}x{height}, {seconds:g} s -> {out}")
