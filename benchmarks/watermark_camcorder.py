"""Camcorder benchmark: stills recorded off a screen (`watermark.attacks.camcorder`), read
along the screen's corners as an investigator marks them (`watermark.perspective`).

For each photograph of `watermark.testimages.PHOTOGRAPHS` at 1080p and each camera
placement (--seeds), the marked still is recorded (`attacks.camcorder`: 480 lines) and
read by `image.detect_many` with the screen's corners (`attacks.camcorder_screen`) moved
at random by --jitter pixels RMS (a person's clicks): exact payload, wrong payload, or
none. The null: the unmarked photograph recorded the same way and read under the key,
and the marked recording read under --foreign other keys, each along the same corners;
their best sync (the most this stage's search reaches without the key's mark) and any
payload (there must be none). CPU time per read (`time.process_time`) is printed too.
With --blind, no corners are given: the reading finds the screen itself
(`watermark.screens`), and how far the corners it found lie from the true ones is printed.

    scripts/bench-watermark-camcorder [--seeds 4] [--first-seed 0] [--jitter 1.5] [--foreign 3]
                                      [--images astronaut,coffee] [--blind]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from watermark import image, perspective, screens
from watermark.attacks import camcorder, camcorder_screen
from watermark.testimages import PHOTOGRAPHS, full_hd, photograph

KEY = b"camcorder benchmark key"
PAYLOAD = 0x5EED_CA3C_0DE5


def screen(
    shape: tuple[int, ...], seed: int, jitter: float, rng: np.random.Generator, blind: bool
) -> perspective.Screen | None:
    if blind:
        return None
    corners = camcorder_screen(shape, seed=seed) + rng.normal(0.0, jitter, (4, 2))
    h, w = shape[:2]
    return perspective.Screen(tuple((float(x), float(y)) for x, y in corners), (h, w), image.cell_size(h, w))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--images", default=",".join(PHOTOGRAPHS))
    parser.add_argument("--seeds", type=int, default=4, help="camera placements per photograph")
    parser.add_argument("--first-seed", type=int, default=0, help="the first placement (later ones are hold-outs)")
    parser.add_argument("--jitter", type=float, default=1.5, help="RMS error of the marked corners (pixels)")
    parser.add_argument("--blind", action="store_true", help="give no corners: the reading finds the screen")
    parser.add_argument("--foreign", type=int, default=3, help="other keys each marked recording is read under")
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    foreign = [f"camcorder benchmark other key {i}".encode() for i in range(args.foreign)]
    exact = wrong = reads = 0
    null_sync: list[float] = []
    null_payloads = 0
    seconds: list[float] = []
    errors: list[float] = []
    outlines = {0: 0, 1: 0, 2: 0}  # outlines found, by how many sides lie beyond the frame
    for name in args.images.split(","):
        original = full_hd(photograph(name))
        marked = image.embed(original, PAYLOAD, KEY)
        for seed in range(args.first_seed, args.first_seed + args.seeds):
            where = screen(marked.shape, seed, args.jitter, rng, args.blind)
            copy = camcorder(marked, seed=seed)
            outline = screens.find_outline(image.luma(copy)) if args.blind else None
            if outline is not None:
                beyond = {c for u in outline.unseen for c in (u.side, (u.side + 1) % 4)}
                seen = [c for c in range(4) if c not in beyond]
                off = outline.corners[seen] - camcorder_screen(marked.shape, seed=seed)[seen]
                errors.append(float(np.max(np.hypot(*off.T))))
                outlines[len(outline.unseen)] += 1
            start = time.process_time()
            found = image.detect_many(copy, [KEY], screen=where)
            seconds.append(time.process_time() - start)
            reads += 1
            exact += found.payload == PAYLOAD
            wrong += found.payload not in (None, PAYLOAD)
            plain = image.detect_many(camcorder(original, seed=seed), [KEY], screen=where)
            others = [image.detect_many(copy, [key], screen=where) for key in foreign]
            null_sync += [plain.sync] + [o.sync for o in others]
            null_payloads += sum(d.payload is not None for d in [plain, *others])
            mark = "NO" if found.payload is None else ("exact" if found.payload == PAYLOAD else "WRONG")
            print(
                f"  {name:10s} seed {seed}: {mark:5s} sync {found.sync:5.1f}   "
                f"null: unmarked {plain.sync:4.1f}, foreign max {max((o.sync for o in others), default=0):4.1f}",
                flush=True,
            )
    if args.blind:
        print("camcorder 1080p stills read blind (the screen found by watermark.screens):")
        print(
            f"  outlines found {outlines[0]}/{reads} with every side seen, {outlines[1]} with one beyond the "
            f"frame, {outlines[2]} with two; worst seen corner off by "
            f"{np.median(errors) if errors else 0:.1f} px median, {np.max(errors) if errors else 0:.1f} px max; "
            f"within 2 px: {sum(e < 2 for e in errors)}"
        )
    else:
        print(f"camcorder 1080p stills along the marked screen (corners +/-{args.jitter} px RMS):")
    print(f"  exact {exact}/{reads} = {100 * exact / reads:.1f} %, wrong payloads {wrong}")
    print(
        f"  null ({len(null_sync)} reads: unmarked, {args.foreign} foreign keys): best sync mean "
        f"{np.mean(null_sync):.1f}, max {np.max(null_sync):.1f} (threshold {perspective.SCREEN_THRESHOLD}); "
        f"payloads {null_payloads}"
    )
    print(f"  CPU per read of a marked recording (all stages, one key): {np.median(seconds):.1f} s median")


if __name__ == "__main__":
    main()
