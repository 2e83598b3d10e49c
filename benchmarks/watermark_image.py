"""Image watermark benchmark: ours side by side with the open baselines, same run, same
images, same attacks.

Methods (benchmarks/watermark_baselines.py): ours (48-bit payload), invisible-watermark's
dwtDct and dwtDctSvd and blind-watermark (32 bits each: the top 32 bits of our payload).
Images: every photograph of `watermark.testimages.PHOTOGRAPHS` (skimage.data; nothing is
downloaded) at native size and scaled to 1920 x 1080, as uint8 RGB (a grey photograph is
given to every method as three equal channels). For each method and image: PSNR and SSIM of
the marked image, then each attack in `watermark.attacks.ATTACKS` and `GEOMETRY_ATTACKS`
(mirror, other aspects, camcorder, heavy crops, picture-in-picture) plus "none", and whether
the exact payload comes back. A read is exact, wrong (bits that are not the payload: the
baselines cannot tell "no mark", so every miss of theirs is one), or no read (our detector's
None, or an exception from a baseline). Times: embed and detect of each 1080p image, the
median of --repeat runs, averaged over the images.

A full run (the default selection) writes docs/watermark-benchmark.md; a partial one only
with --output.

    scripts/bench-watermark-image [--methods ours,dwtDct,dwtDctSvd,blind] [--sizes native,1080p]
                                  [--images astronaut,coffee] [--attacks none,jpeg50] [--repeat 3]
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from functools import partial
from importlib import metadata
from pathlib import Path

import numpy as np
from skimage.metrics import peak_signal_noise_ratio, structural_similarity

from benchmarks.watermark_baselines import METHODS, Method, make, payload_bits
from watermark.attacks import ATTACKS, GEOMETRY_ATTACKS
from watermark.testimages import PHOTOGRAPHS, full_hd, photograph

# The watermark code measured, as imported (another change to the tree during a run is not it).
SOURCES = hashlib.sha256(
    b"".join(p.read_bytes() for p in sorted((Path(__file__).resolve().parent.parent / "watermark").glob("*.py")))
).hexdigest()[:12]
SIZES = ("native", "1080p")
ALL_ATTACKS: dict[str, Callable[[np.ndarray], np.ndarray]] = {"none": lambda im: im, **ATTACKS, **GEOMETRY_ATTACKS}
DOC = Path(__file__).resolve().parent.parent / "docs" / "watermark-benchmark.md"
GOAL_RECOVERY, GOAL_PSNR, GOAL_SSIM = 0.90, 40.0, 0.98


def rgb_image(name: str, size: str) -> np.ndarray:
    image = photograph(name)
    if size == "1080p":
        image = full_hd(image)
    if image.ndim == 2:
        image = np.repeat(image[..., None], 3, axis=2)
    return np.ascontiguousarray(image)


def timed(fn: Callable[[], object], repeat: int) -> tuple[object, float]:
    """fn's result and the median of `repeat` wall times (seconds)."""
    times, result = [], None
    for _ in range(max(1, repeat)):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return result, statistics.median(times)


def cold_and_warm(method: Method, fn: Callable[[], object], repeat: int) -> tuple[object, float, float]:
    """fn's result, the time of a first call with the method's caches cleared, and the
    median of `repeat` calls after it (as for the next frames of a video; nan if none)."""
    method.reset()
    result, cold = timed(fn, 1)
    warm = timed(fn, repeat)[1] if repeat > 0 else float("nan")
    return result, cold, warm


class Results:
    def __init__(self, methods: list[str], sizes: list[str], images: list[str], attacks: list[str]):
        self.methods, self.sizes, self.images, self.attacks = methods, sizes, images, attacks
        self.repeat = 0
        self.load = (float("nan"), float("nan"))  # 1-minute load average at the start and the end
        self.labels: dict[str, str] = {}
        self.bits: dict[str, int] = {}
        # reads[method][size][attack] -> outcome per image: "exact" | "wrong" | "none" | "error"
        self.reads = {m: {s: {a: [] for a in attacks} for s in sizes} for m in methods}
        self.quality = {m: {s: {} for s in sizes} for m in methods}  # image -> (psnr, ssim)
        self.embed_s = {m: [] for m in methods}  # per 1080p image: (first call, median of repeats)
        self.detect_s = {m: [] for m in methods}
        self.errors: dict[tuple[str, str], str] = {}  # (method, attack) -> first message

    def count(self, method: str, size: str, attack: str, outcome: str) -> int:
        return self.reads[method][size][attack].count(outcome)

    def rate(self, method: str, size: str, attack: str) -> float:
        reads = self.reads[method][size][attack]
        return self.count(method, size, attack, "exact") / len(reads) if reads else float("nan")

    def wrong(self, method: str, size: str | None = None) -> int:
        sizes = self.sizes if size is None else [size]
        return sum(self.count(method, s, a, "wrong") for s in sizes for a in self.attacks)

    def cell(self, method: str, size: str, attack: str) -> str:
        reads = self.reads[method][size][attack]
        text = f"{reads.count('exact')}/{len(reads)}"
        extra = []
        if reads.count("wrong"):
            extra.append(f"{reads.count('wrong')} wrong")
        if reads.count("error"):
            extra.append(f"{reads.count('error')} err")
        return text + (f" ({', '.join(extra)})" if extra else "")


def read(method: Method, attacked: np.ndarray, expected: np.ndarray, results: Results, attack: str) -> str:
    try:
        bits = method.extract(attacked)
    except Exception as e:  # a baseline refusing the image counts as no read
        results.errors.setdefault((method.name, attack), f"{type(e).__name__}: {e}")
        return "error"
    if bits is None:
        return "none"
    return "exact" if np.array_equal(np.asarray(bits, dtype=np.uint8), expected) else "wrong"


MARK = {"exact": "yes", "wrong": "WRONG", "none": "no", "error": "err"}


def run(args: argparse.Namespace) -> Results:
    results = Results(args.methods, args.sizes, args.images, args.attacks)
    results.repeat = args.repeat
    methods = {name: make(name) for name in args.methods}
    for name, m in methods.items():
        results.labels[name], results.bits[name] = m.label, m.payload_bits
    widths = [max(len(a), 5) for a in args.attacks]
    header = f"{'image':<16}{'size':>10} {'method':<10}{'PSNR':>7}{'SSIM':>8}  "
    print(header + " ".join(a.rjust(w) for a, w in zip(args.attacks, widths, strict=True)), flush=True)
    for image_name in args.images:
        for size in args.sizes:
            image = rgb_image(image_name, size)
            for name, method in methods.items():
                expected = payload_bits(method.payload_bits)
                if size == "1080p":
                    marked, embed_cold, embed_warm = cold_and_warm(
                        method, partial(method.embed, image, expected), args.repeat
                    )
                    results.embed_s[name].append((embed_cold, embed_warm))
                else:
                    marked = method.embed(image, expected)
                assert marked.shape == image.shape and marked.dtype == np.uint8, (name, marked.shape)
                psnr = peak_signal_noise_ratio(image, marked, data_range=255)
                ssim = structural_similarity(image, marked, channel_axis=-1, data_range=255)
                results.quality[name][size][image_name] = (psnr, ssim)
                cells = []
                for attack in args.attacks:
                    attacked = ALL_ATTACKS[attack](marked)
                    if attack == "none" and size == "1080p":
                        outcome, detect_cold, detect_warm = cold_and_warm(
                            method, partial(read, method, attacked, expected, results, attack), args.repeat
                        )
                        results.detect_s[name].append((detect_cold, detect_warm))
                    else:
                        outcome = read(method, attacked, expected, results, attack)
                    results.reads[name][size][attack].append(outcome)
                    cells.append(MARK[outcome])
                shape = f"{image.shape[1]}x{image.shape[0]}"
                print(
                    f"{image_name:<16}{shape:>10} {name:<10}{psnr:>7.2f}{ssim:>8.4f}  "
                    + " ".join(c.rjust(w) for c, w in zip(cells, widths, strict=True)),
                    flush=True,
                )
    return results


# ---------------------------------------------------------------- reports


def mean(xs: list[float]) -> float:
    return float(np.mean(xs)) if xs else float("nan")


def quality_stats(results: Results, method: str, size: str) -> tuple[float, float, float, float]:
    q = list(results.quality[method][size].values())
    psnr, ssim = [p for p, _ in q], [s for _, s in q]
    return min(psnr, default=float("nan")), mean(psnr), min(ssim, default=float("nan")), mean(ssim)


def print_summary(results: Results) -> None:
    m = results.methods
    width = max(18, *(len(results.cell(x, s, a)) + 2 for x in m for s in results.sizes for a in results.attacks))
    for size in results.sizes:
        n = len(results.images)
        print(f"\nexact recovery, {size} ({n} image{'s' if n != 1 else ''}):")
        print(f"{'attack':<16}" + "".join(x.rjust(width) for x in m))
        for attack in results.attacks:
            print(f"{attack:<16}" + "".join(results.cell(x, size, attack).rjust(width) for x in m))
        rows = (
            ("PSNR min/mean", lambda s: f"{s[0]:.2f}/{s[1]:.2f}"),
            ("SSIM min/mean", lambda s: f"{s[2]:.4f}/{s[3]:.4f}"),
        )
        for label, fmt in rows:
            print(f"{label:<16}" + "".join(fmt(quality_stats(results, x, size)).rjust(width) for x in m))
        print(f"{'wrong payloads':<16}" + "".join(str(results.wrong(x, size)).rjust(width) for x in m))
    if any(results.embed_s.values()):
        print()
        for label, data in (("embed 1080p", results.embed_s), ("detect 1080p", results.detect_s)):
            for i, when in ((0, "first"), (1, "next")):
                print(
                    f"{label + ' ' + when:<20}"
                    + "".join(f"{1000 * mean([t[i] for t in data[x]]):.0f} ms".rjust(width) for x in m)
                )
    for (method, attack), message in sorted(results.errors.items()):
        print(f"note: {method} under {attack}: {message}")


def goals(results: Results) -> list[tuple[str, str, str]]:
    """(goal, met: "yes", "NO" or a qualified answer, detail) for ours, for what was measured."""
    out: list[tuple[str, str, str]] = []
    if "ours" not in results.methods:
        return out
    if "1080p" in results.sizes:
        rates = {a: results.rate("ours", "1080p", a) for a in results.attacks}
        low = [f"{a} {100 * r:.0f}%" for a, r in rates.items() if not r >= GOAL_RECOVERY]
        out.append(
            (
                f"ours >= {100 * GOAL_RECOVERY:.0f}% exact recovery on 1080p under every attack",
                "yes" if not low else "NO",
                "lowest: " + (", ".join(low) if low else f"{100 * min(rates.values()):.0f}%"),
            )
        )
        baselines = [x for x in results.methods if x != "ours"]
        if baselines:
            losses, ties, ceiling = [], [], []
            compared = [a for a in results.attacks if a != "none"]
            for a in compared:
                for b in baselines:
                    ours, theirs = results.rate("ours", "1080p", a), results.rate(b, "1080p", a)
                    if ours < theirs:
                        losses.append(f"{a} vs {b}")
                    elif ours == theirs:
                        (ceiling if ours == 1.0 else ties).append(f"{a} vs {b}")
            status = "NO" if losses or ties else "tied at 100%" if ceiling else "yes"
            detail = []
            if losses:
                detail.append("worse: " + ", ".join(losses))
            if ties:
                detail.append("tied below 100%: " + ", ".join(ties))
            if ceiling:
                detail.append("both 100% (nothing to beat): " + ", ".join(ceiling))
            better = len(compared) * len(baselines) - len(losses) - len(ties) - len(ceiling)
            detail.append(f"strictly better in {better} of {len(compared) * len(baselines)} attack-baseline pairs")
            out.append(
                ("ours better than every baseline on every attack (1080p; `none` aside)", status, "; ".join(detail))
            )
    psnr = [p for s in results.sizes for p, _ in results.quality["ours"][s].values()]
    ssim = [q for s in results.sizes for _, q in results.quality["ours"][s].values()]
    out.append(
        (
            f"PSNR >= {GOAL_PSNR:.0f} dB on every image",
            "yes" if min(psnr) >= GOAL_PSNR else "NO",
            f"min {min(psnr):.2f} dB",
        )
    )
    out.append(
        (f"SSIM >= {GOAL_SSIM} on every image", "yes" if min(ssim) >= GOAL_SSIM else "NO", f"min {min(ssim):.4f}")
    )
    wrong = results.wrong("ours")
    out.append(("ours: no wrong payload", "yes" if wrong == 0 else "NO", f"{wrong} wrong"))
    return out


def _load() -> float:
    try:
        return os.getloadavg()[0]
    except OSError:
        return float("nan")


def _version(dist: str) -> str:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "not installed"


def code_version(
    paths: tuple[str, ...] = ("watermark", "benchmarks/watermark_image.py", "benchmarks/watermark_baselines.py"),
    what: str = "the watermark or benchmark code",
    note: str | None = None,
) -> str:
    """The commit measured, and whether the measured code (`paths`, described as `what`) had changes on top."""
    root = Path(__file__).resolve().parent.parent

    def git(*cmd: str) -> str:
        try:
            return subprocess.run(["git", *cmd], cwd=root, capture_output=True, text=True, timeout=10).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            return ""

    head = git("rev-parse", "--short", "HEAD")
    if not head:
        return "unknown (not a git checkout)"
    dirty = git("status", "--porcelain", "--", *paths)
    if not dirty:
        return f"commit {head}"
    return f"commit {head} with uncommitted changes to {what}" + (f" ({note})" if note else "")


def machine() -> str:
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = ""
    try:
        kb = int(Path("/proc/meminfo").read_text().split()[1])
        mem = f", {kb / 2**20:.0f} GiB RAM"
    except (OSError, ValueError, IndexError):
        pass
    cpu = f"{os.cpu_count()} cores" + (f" ({model})" if model else "")
    return f"{cpu}{mem}, {platform.system()} {platform.machine()}, Python {platform.python_version()}"


def markdown(results: Results, command: str, elapsed: float) -> str:
    r, m = results, results.methods
    heads = [r.labels[x] + f" ({r.bits[x]} bit)" if x != "ours" else r.labels[x] for x in m]
    lines = [
        "# Image watermark benchmark: ours and the open baselines",
        "",
        "Generated by `benchmarks/watermark_image.py`; do not edit by hand, run it again.",
        "",
        f"- Date: {dt.datetime.now().astimezone().strftime('%Y-%m-%d %H:%M %Z')}",
        f"- Machine: {machine()}",
        f"- Command: `{command}` (took {elapsed / 60:.1f} min; 1-minute load average "
        f"{r.load[0]:.1f} at the start, {r.load[1]:.1f} at the end: above 1 means other work shared "
        "the cores, which slows the times below)",
        "- Versions: "
        + ", ".join(
            f"{d} {_version(d)}"
            for d in (
                "invisible-watermark",
                "blind-watermark",
                "torch",
                "numpy",
                "opencv-python-headless",
                "PyWavelets",
                "scikit-image",
            )
        ),
        f"- Code: {code_version(note=f'watermark/*.py sha256 {SOURCES}')}",
        f"- Images: {', '.join(r.images)} (skimage.data), "
        + " and ".join(
            {"native": "at native size", "1080p": "scaled up and centre-cropped to 1920 x 1080"}[s] for s in r.sizes
        )
        + ", as RGB (the grey `camera` is given to every method as three equal channels).",
        f"- Attacks: {', '.join(r.attacks)} (`watermark.attacks.ATTACKS` and `GEOMETRY_ATTACKS`, plus `none`).",
        "- Payloads: ours 48 bits (`0xC0FFEE123456`, keyed); each baseline 32 bits (the top 32 bits "
        "of ours, `0xC0FFEE12`), with its documented default settings; blind-watermark with fixed "
        "passwords and the payload length given to its extractor.",
        "- A cell is exact reads / images. *wrong*: bits that are not the payload (the baselines always "
        "return bits, so every miss of theirs is a wrong payload); *err*: the baseline raised "
        "(invisible-watermark refuses images under 256 x 256 pixels); any other miss is ours saying "
        '"no mark".',
        "",
    ]
    g = goals(r)
    if g:
        lines += ["## Goals", "", "| goal | met | measured |", "| --- | --- | --- |"]
        for goal, met, detail in g:
            lines.append(f"| {goal} | {met} | {detail} |")
        lines.append("")
    for size in r.sizes:
        title = "1080p (1920 x 1080)" if size == "1080p" else "native size"
        lines += [
            f"## Exact recovery, {title}, {len(r.images)} image{'s' if len(r.images) != 1 else ''}",
            "",
            "| attack | " + " | ".join(heads) + " |",
            "| --- | " + " | ".join("---" for _ in m) + " |",
        ]
        for attack in r.attacks:
            cells = []
            for x in m:
                c = r.cell(x, size, attack)
                best = max(r.rate(y, size, attack) for y in m)
                cells.append(f"**{c}**" if r.rate(x, size, attack) == best and best > 0 else c)
            lines.append(f"| {attack} | " + " | ".join(cells) + " |")
        total = {x: sum(r.count(x, size, a, "exact") for a in r.attacks) for x in m}
        n = len(r.attacks) * len(r.images)
        lines.append(
            "| **all attacks** | " + " | ".join(f"{total[x]}/{n} ({100 * total[x] / n:.0f}%)" for x in m) + " |"
        )
        lines.append("| wrong payloads | " + " | ".join(str(r.wrong(x, size)) for x in m) + " |")
        stats = {x: quality_stats(r, x, size) for x in m}
        lines.append(
            "| PSNR min / mean (dB) | " + " | ".join(f"{stats[x][0]:.2f} / {stats[x][1]:.2f}" for x in m) + " |"
        )
        lines.append("| SSIM min / mean | " + " | ".join(f"{stats[x][2]:.4f} / {stats[x][3]:.4f}" for x in m) + " |")
        if size == "1080p":
            for what, data in (("embed", r.embed_s), ("detect", r.detect_s)):
                for i, when in ((0, "first frame"), (1, "next frames")):
                    cells = [f"{1000 * mean([t[i] for t in data[x]]):.0f} ms" for x in m]
                    lines.append(f"| {what} time, {when} | " + " | ".join(cells) + " |")
        lines.append("")
    if "1080p" in r.sizes:
        lines += [
            "Times: wall time of one call on one 1920 x 1080 frame, in one process on this machine, "
            "mean over the images; detection on the unattacked marked frame. *First frame*: the first "
            "call with the method's caches cleared (a single image); *next frames*: the median of "
            f"{r.repeat} further calls on the same frame (the steady state of a video, where ours reuses "
            "the tile it built for the first frame; the baselines cache nothing).",
            "",
        ]
    lines += ["## PSNR / SSIM per image", "", "| image | size | " + " | ".join(heads) + " |"]
    lines.append("| --- | --- | " + " | ".join("---" for _ in m) + " |")
    for image in r.images:
        for size in r.sizes:
            cells = [f"{r.quality[x][size][image][0]:.2f} dB / {r.quality[x][size][image][1]:.4f}" for x in m]
            lines.append(f"| {image} | {size} | " + " | ".join(cells) + " |")
    lines.append("")
    if "none" in r.attacks:
        misses = [
            f"- {r.labels[x]}, {size}: "
            + ", ".join(
                f"{image} ({outcome})"
                for image, outcome in zip(r.images, r.reads[x][size]["none"], strict=True)
                if outcome != "exact"
            )
            for x in m
            for size in r.sizes
            if r.count(x, size, "none", "exact") < len(r.reads[x][size]["none"])
        ]
        if misses:
            lines += ["## Misses with no attack at all", "", *misses, ""]
    if r.errors:
        lines += ["## Baseline errors (counted as no read)", ""]
        for (method, attack), message in sorted(r.errors.items()):
            lines.append(f"- {r.labels[method]} under `{attack}`: `{message}`")
        lines.append("")
    lines += [
        "## How this is run",
        "",
        "`scripts/bench-watermark-image` installs the baselines into their own virtualenv, `.venv-bench` "
        "(the project's pins plus pyproject.toml's `bench` extra: invisible-watermark 0.2.0, "
        "blind-watermark 0.4.4, torch 2.13.0 (CPU build; invisible-watermark imports it), "
        "opencv-python 5.0.0.93), once, with a stamp, then runs this benchmark there. Not in `.venv`: "
        "both baselines require `opencv-python`, which ships the same `cv2` package as the project's "
        "`opencv-python-headless` and would overwrite its files; in `.venv-bench` the headless build "
        "is reinstalled last, so `cv2` is the build the project uses. Nothing is a runtime dependency.",
        "",
        "A quick run: `scripts/bench-watermark-image --methods ours,blind --images astronaut "
        "--sizes 1080p --attacks none,crop10 --repeat 1` (a partial run writes no report unless given "
        "`--output`).",
        "",
        "`crf30` and `500k`: the still held for one second (24 frames) of H.264 at CRF 30 or 500 kbit/s, "
        "the last frame read back; `screen` is the simulated re-recording (perspective, 75 % rescale, "
        "blur, gamma, noise, JPEG 75).",
        "",
    ]
    return "\n".join(lines)


def _list(value: str, allowed: tuple[str, ...] | list[str], what: str) -> list[str]:
    items = [x.strip() for x in value.split(",") if x.strip()]
    unknown = [x for x in items if x not in allowed]
    if unknown:
        raise SystemExit(f"unknown {what}: {', '.join(unknown)} (choose from {', '.join(allowed)})")
    return items


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--methods", default=",".join(METHODS), help="comma-separated: " + ",".join(METHODS))
    parser.add_argument("--images", default=",".join(PHOTOGRAPHS))
    parser.add_argument("--sizes", default=",".join(SIZES))
    parser.add_argument(
        "--attacks", default=",".join(ALL_ATTACKS), help="comma-separated; default: none and every attack"
    )
    parser.add_argument(
        "--repeat", type=int, default=3, help="timed calls of embed and detect per 1080p image after the first (median)"
    )
    parser.add_argument("--output", type=Path, help=f"Markdown report (default for a full run: {DOC})")
    parser.add_argument("--no-write", action="store_true", help="write no Markdown report")
    args = parser.parse_args()
    args.methods = _list(args.methods, METHODS, "method")
    args.images = _list(args.images, PHOTOGRAPHS, "image")
    args.sizes = _list(args.sizes, SIZES, "size")
    args.attacks = _list(args.attacks, list(ALL_ATTACKS), "attack")
    full = (
        args.methods == list(METHODS)
        and args.images == list(PHOTOGRAPHS)
        and args.sizes == list(SIZES)
        and args.attacks == list(ALL_ATTACKS)
    )
    output = None if args.no_write else (args.output or (DOC if full else None))

    start, load = time.perf_counter(), _load()
    results = run(args)
    elapsed = time.perf_counter() - start
    results.load = (load, _load())
    print_summary(results)
    for goal, met, detail in goals(results):
        print(f"goal: {goal}: {met} ({detail})")
    print(f"took {elapsed / 60:.1f} min")
    if output is not None:
        command = " ".join(["scripts/bench-watermark-image", *sys.argv[1:]])
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(markdown(results, command, elapsed) + "\n")
        print(f"wrote {output}")


if __name__ == "__main__":
    main()
