"""Match index benchmark: a 30-second clip queried against 1M and 10M frame hashes, with the
faiss inverted-file index the service uses next to exact brute force (faiss's flat binary
index, a full scan) in the same run, and the memory each holds.

The index holds one real registered work, 720p footage made from the skimage.data
photographs (`watermark.testvideos.photo_footage`), among synthetic works that stand for
the rest of a catalogue: shots of 2 to 20 seconds, each a random 64-bit hash, its frames a
few bits from it (as a shot's frames are), two variants per frame as registration stores.
Queries are real: 30-second excerpts of the footage re-encoded (CRF 30), cropped 10 % from
each border or mirrored, hashed with `query_sequence` (5 variants per frame). For each size
it prints the build time (with training), the memory the index holds (and the whole
process's resident memory, synthetic arrays included), the query
time of each index, the share of the full scan's hits the inverted file found (recall per
hash) and whether both made the same match (work and offset) of every query.

    scripts/bench-match-index [--sizes 1000000,10000000] [--queries 3]
"""

from __future__ import annotations

import argparse
import gc
import tempfile
import time
from pathlib import Path

import numpy as np

from watermark import matcher
from watermark.frame_hashes import HASH_BYTES
from watermark.hash_sequence import hash_video, query_sequence
from watermark.matcher import FrameIndex, match
from watermark.testvideos import photo_footage
from watermark.video_attacks import ALL_ATTACKS, transcode

REAL_WORK = 0
ATTACKS = ("crf30", "crop10each", "mirror")


def rss_bytes() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


def synthetic(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """n codes of synthetic works: (work, time_ms, code) in shots of near-identical frames."""
    shot_frames = rng.integers(4, 40, n // 4 + 1)  # 2 to 20 s at 2 frames a second
    shot_frames = shot_frames[: np.searchsorted(np.cumsum(shot_frames), n // 2) + 1]
    bases = rng.integers(0, 256, (len(shot_frames), HASH_BYTES), dtype=np.uint8)
    frames = np.repeat(bases, shot_frames, axis=0)[: n // 2]
    flips = rng.integers(0, 64, (len(frames), 3))  # up to three bits off the shot's hash
    bits = np.unpackbits(frames, axis=1)
    rows = np.arange(len(frames))[:, None]
    bits[rows, flips] ^= (rng.random((len(frames), 3)) < 0.7).astype(np.uint8)
    whole = np.packbits(bits, axis=1)
    centre = whole ^ rng.integers(0, 256, whole.shape, dtype=np.uint8) & rng.integers(
        0, 256, whole.shape, dtype=np.uint8
    )
    codes = np.stack([whole, centre], axis=1).reshape(-1, HASH_BYTES)[:n]
    frame_no = np.arange(len(codes)) // 2
    work = 1 + frame_no // 7200  # an hour at 2 frames a second per synthetic work
    return work, (frame_no % 7200) * 500, codes


def build(exact: bool, parts) -> tuple[FrameIndex, float, int]:
    """The index over `parts`, the seconds it took, and the process's resident memory after."""
    gc.collect()
    t = time.perf_counter()
    index = FrameIndex(exact=exact)
    for works, times, codes in parts:
        index.add_codes(works, times, codes)
    index.prepare()
    index.search(np.zeros((1, HASH_BYTES), np.uint8))  # joins the columns, as the first query would
    return index, time.perf_counter() - t, rss_bytes()


def index_bytes(index: FrameIndex) -> int:
    """What the index itself holds: the flat codes and the work and time columns, and for the
    inverted file its own copy of the codes with their ids (8 bytes each) and its centroids."""
    n = len(index)
    held = n * (HASH_BYTES + 16)
    if index.kind == "ivf":
        held += n * (HASH_BYTES + 8) + index._ivf.nlist * HASH_BYTES
    return held


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="1000000,10000000")
    parser.add_argument("--queries", type=int, default=3, help="30-second excerpts per attack")
    parser.add_argument(
        "--probe-share",
        type=float,
        default=matcher.IVF_PROBE_SHARE,
        help="share of the inverted lists each query hash reads",
    )
    args = parser.parse_args()
    matcher.IVF_PROBE_SHARE = args.probe_share
    print(
        f"inverted file: each query hash reads {args.probe_share:.2%} of the lists; radius {matcher.RADIUS} bits, "
        f"at most {matcher.MAX_HITS} hits a hash"
    )
    rng = np.random.default_rng(11)
    with tempfile.TemporaryDirectory() as scratch:
        d = Path(scratch)
        print("making 5 min of 720p footage and its 30-second queries ...", flush=True)
        footage = photo_footage(
            d / "footage.mp4", width=1280, height=720, seconds=300, fps=25, crf=18, shot_seconds=3.0, seed=1
        )
        real = hash_video(footage)
        real_codes = real.hashes.reshape(-1, HASH_BYTES)
        real_part = (np.full(len(real_codes), REAL_WORK), np.repeat(real.times_ms, real.hashes.shape[1]), real_codes)
        queries = []
        for name in ATTACKS:
            for start in rng.uniform(0, 265, args.queries):
                copy = transcode(
                    footage, d / f"{name}-{start:.0f}.mp4", ALL_ATTACKS[name], start=float(start), seconds=30
                )
                queries.append((name, float(start), query_sequence(copy)))
    codes_per_query = int(np.mean([q.hashes.shape[0] * q.hashes.shape[1] for *_, q in queries]))
    print(f"{len(queries)} queries of 30 s ({codes_per_query} hashes each on average: frames x 5 variants)\n")
    for size in (int(s) for s in args.sizes.split(",")):
        print(
            f"--- {size:,} frame hashes ({size - len(real_codes):,} synthetic + {len(real_codes):,} real)", flush=True
        )
        fake = synthetic(size - len(real_codes), rng)
        parts = [fake, real_part]
        results = {}
        for exact in (False, True):
            label = "brute force (flat)" if exact else "inverted file (IVF)"
            index, took, rss = build(exact, parts)
            held = index_bytes(index)
            times, hits, found = [], [], []
            for _name, start, q in queries:
                t = time.perf_counter()
                m = match(index, q)
                times.append(time.perf_counter() - t)
                hits.append(index.search(q.hashes.reshape(-1, HASH_BYTES)))  # for the recall, not timed
                found.append(None if m is None else (m.work, m.offset, abs(m.offset - start) <= 1.0))
            results[exact] = (hits, found, np.median(times))
            right = sum(1 for f in found if f and f[0] == REAL_WORK and f[2])
            print(
                f"{label:20s} built in {took:6.1f} s, index holds {held / 2**20:6.0f} MiB "
                f"(process RSS {rss / 2**20:5.0f} MiB); "
                f"match (search + vote) median {np.median(times) * 1000:8.1f} ms, max {max(times) * 1000:8.1f} ms; "
                f"right work and offset {right}/{len(queries)}",
                flush=True,
            )
            del index
            gc.collect()
        fast_hits, fast_found, fast_t = results[False]
        flat_hits, flat_found, flat_t = results[True]
        found = truth = wrong = 0
        for a, b in zip(fast_hits, flat_hits, strict=True):
            got, true = set(zip(*[x.tolist() for x in a], strict=True)), set(zip(*[x.tolist() for x in b], strict=True))
            found, truth, wrong = found + len(got & true), truth + len(true), wrong + len(got - true)
        same = all(
            (a is None) == (b is None) and (a is None or (a[0] == b[0] and abs(a[1] - b[1]) <= 0.5))
            for a, b in zip(fast_found, flat_found, strict=True)
        )
        print(
            f"speed-up {flat_t / fast_t:.1f}x; recall per hash {found / truth:.2%} ({found:,} of {truth:,} hits, "
            f"{wrong} not in the full scan's); same work and offset (within 0.5 s) for every query: "
            f"{'yes' if same else 'NO'}\n",
            flush=True,
        )
        del fake, parts
        gc.collect()


if __name__ == "__main__":
    main()
