"""Crawl benchmark: pages and media per second, leak-to-notice time, sites per day.

Everything runs on this machine over loopback: a ReelLedger service in its own process (its
managed Anvil node, SQLite), the piracy test site (tests/helpers/piracy_site.py, a threaded
HTTP/1.1 server), the crawler as a user runs it (`reelledger crawl run`, or `reelledger crawl
submit` to Dramatiq workers started with `reelledger crawl worker` on the machine's Redis).

1. Throughput. A site of --pages pages (an index, sections, item pages, each item page with
   one medium: a 640 x 360 JPEG of an unrelated skimage photograph, and every tenth a 6-s
   360p video of unrelated footage) is crawled with no per-host delay, so the figure is the
   pipeline's capacity (fetch, parse, download, hash the medium here, ask the service to
   match it): inline, then on the queue with 1 and with 2 worker processes (2 threads each).
2. Leak to notice. A --clip-minutes 720p film (photo footage) is registered, distributed to a
   platform (its copy watermarked) and the copy, re-encoded (CRF 26), is published on a page
   of the site. The clock starts when it is published and stops when the service answers
   with its case (evidence bundle stored and sent to the chain, both notices drafted): inline
   (`crawl run` started at that moment) and with a worker already waiting (`crawl submit`).
   Goal: 15 s. The line under each says how much of the copy the verdict rests on (the case's
   evidence bundle): the crawler and the service hash a video in stages and stop at a
   decisive match, and the watermark is read on a first stretch (ledger/matching.py,
   ledger/piracy/cases.py).
3. Sites per day. From run 1: requests one site of that shape takes and the pipeline's
   seconds per site with no delay; at the polite default (1 s between two requests to one
   host, longer if robots.txt asks) a site takes max(requests x 1 s, pipeline time). One
   inline crawler works one site at a time; one worker process with T threads keeps up to T
   hosts busy at once.
4. Many hosts at once (benchmarks/crawl_capacity.py): --sites sites of --site-pages pages,
   each on a loopback address of its own, crawled at the polite interval, inline and on the
   queue with 1 and 2 worker processes: sites a day and pages a second as measured.

    scripts/bench-crawl [--pages 100] [--clip-minutes 5] [--sites 400] [--site-pages 50]
                        [--capacity-only] [--workdir DIR]

A --workdir keeps the film made for part 2 (the same footage each time) for the next run.

A full run (the defaults) writes what it printed to docs/crawl-benchmark.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import resource
import signal
import subprocess
import sys
import time
from pathlib import Path

import cv2
import httpx
import redis

from benchmarks.crawl_capacity import capacity
from benchmarks.service import REELLEDGER, BenchService
from benchmarks.watermark_image import code_version, machine
from benchmarks.watermark_video import run_printing
from ledger.distributions.keys import WatermarkKeys
from ledger.keys import load_master_key
from tests.helpers.piracy_site import PiracySite
from watermark.testimages import UNRELATED_PHOTOGRAPHS, photograph
from watermark.testvideos import photo_footage
from watermark.video_attacks import VideoAttack, transcode

DOC = Path(__file__).resolve().parent.parent / "docs" / "crawl-benchmark.md"
POLITE_INTERVAL = 1.0
GOAL_SECONDS = 15.0  # leak to notice (issue 20; it was 60 s before verdicts were read from part of a copy)
QUEUE_DBS = (11, 12, 13, 10)  # Redis databases used (flushed) by the queued runs (14 and 15 are the tests')


def build_site(site: PiracySite, pages: int, workdir: Path) -> tuple[str, int]:
    """The throughput site; returns its index URL and the number of media on it."""
    import numpy as np

    rng = np.random.default_rng(7)
    sections, items, media = max(1, pages // 10), [], 0
    for i in range(pages - sections - 1):
        photo = photograph(UNRELATED_PHOTOGRAPHS[i % len(UNRELATED_PHOTOGRAPHS)])
        if photo.ndim == 2:
            photo = np.dstack([photo] * 3)
        photo = photo[..., :3]
        h, w = photo.shape[:2]
        y, x = rng.integers(0, max(1, h // 4)), rng.integers(0, max(1, w // 4))
        crop = cv2.resize(photo[y : y + 3 * h // 4, x : x + 3 * w // 4], (640, 360))
        if i % 10 == 9:
            clip = photo_footage(
                workdir / f"clip{i}.mp4", width=640, height=360, seconds=6, fps=25, photos=UNRELATED_PHOTOGRAPHS, seed=i
            )
            src = site.publish(f"/v/{i}.mp4", clip, "video/mp4")
            body = f'<video src="{src}"></video>'
        else:
            ok, jpeg = cv2.imencode(".jpg", cv2.cvtColor(crop, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 85])
            src = site.publish(f"/i/{i}.jpg", jpeg.tobytes(), "image/jpeg")
            body = f'<img src="{src}">'
        media += 1
        items.append(site.page(f"/item/{i}.html", f"<html><body><h1>item {i}</h1>{body}</body></html>"))
    section_urls = []
    for s in range(sections):
        links = "".join(f'<a href="{u}">x</a>' for u in items[s::sections])
        section_urls.append(site.page(f"/section/{s}.html", f"<html><body>{links}</body></html>"))
    index = site.page(
        "/index.html", "<html><body>" + "".join(f'<a href="{u}">s</a>' for u in section_urls) + "</body></html>"
    )
    return index, media


def cli_env(service: BenchService, key: str, **extra) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("REELLEDGER_")}
    env.update(REELLEDGER_URL=service.url, REELLEDGER_API_KEY=key, COLUMNS="200", **extra)
    return env


def run_inline(
    env: dict, seeds: Path, state: Path, interval: float, depth: int = 4, max_pages: int = 10000, *extra: str
) -> tuple[float, str]:
    """`crawl run` to its end: (seconds it took, its first line of output)."""
    began = time.perf_counter()
    done = subprocess.run(
        [
            str(REELLEDGER),
            "crawl",
            "run",
            "--seeds",
            str(seeds),
            "--state",
            str(state),
            "--interval",
            str(interval),
            "--depth",
            str(depth),
            "--max-pages",
            str(max_pages),
            *extra,
        ],
        env=env,
        capture_output=True,
        text=True,
    )
    if done.returncode:
        raise RuntimeError(done.stdout + done.stderr)
    return time.perf_counter() - began, done.stdout.strip().splitlines()[0]


class Workers:
    def __init__(self, env: dict, processes: int, log: Path, threads: int = 2) -> None:
        self.log = open(log, "ab")
        self.proc = subprocess.Popen(
            [str(REELLEDGER), "crawl", "worker", "--processes", str(processes), "--threads", str(threads)],
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def stop(self) -> None:
        os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(60)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.log.close()


def submit(env: dict, seeds: Path, interval: float, depth: int = 4, hosts: int = 1) -> str:
    done = subprocess.run(
        [
            str(REELLEDGER),
            "crawl",
            "submit",
            "--seeds",
            str(seeds),
            "--interval",
            str(interval),
            "--depth",
            str(depth),
            "--max-pages",
            str(10000 * hosts),
        ],
        env=env,
        capture_output=True,
        text=True,
    )
    if done.returncode:
        raise RuntimeError(done.stdout + done.stderr)
    return done.stdout.strip()


def wait_job(env: dict, job_id: str) -> str:
    done = subprocess.run(
        [str(REELLEDGER), "crawl", "status", job_id, "--wait"], env=env, capture_output=True, text=True
    )
    if done.returncode:
        raise RuntimeError(done.stdout + done.stderr)
    return done.stdout.strip()


def queue_env(service, key, db: int, workdir: Path) -> dict:
    url = f"redis://127.0.0.1:6379/{db}"
    redis.Redis.from_url(url).flushdb()
    return cli_env(service, key, REELLEDGER_REDIS_URL=url, REELLEDGER_CRAWL_WORK_DIR=str(workdir / f"q{db}"))


def throughput(args, service, crawler_key, workdir: Path) -> dict:
    with PiracySite() as site:
        print(f"building a site of {args.pages} pages ...", flush=True)
        index, media = build_site(site, args.pages, workdir)
        seeds = workdir / "seeds.txt"
        seeds.write_text(index + "\n")
        before = len(site.log)
        seconds, _ = run_inline(cli_env(service, crawler_key), seeds, workdir / "state-inline", 0.0)
        requests = len(site.log) - before
        print(f"\n1. throughput, no per-host delay ({args.pages} pages, {media} media, {requests} requests)")
        print(f"  {'run':<28} {'seconds':>8} {'pages/s':>8} {'media/s':>8}")
        print(f"  {'inline (crawl run)':<28} {seconds:8.1f} {args.pages / seconds:8.2f} {media / seconds:8.2f}")
        results = {"inline": seconds}
        for processes, db in ((1, QUEUE_DBS[0]), (2, QUEUE_DBS[1])):
            env = queue_env(service, crawler_key, db, workdir)
            workers = Workers(env, processes, workdir / f"workers{processes}.log")
            try:
                time.sleep(3)  # the workers boot
                began = time.perf_counter()
                status = wait_job(env, submit(env, seeds, 0.0))
                took = time.perf_counter() - began
            finally:
                workers.stop()
            label = f"queue, {processes} worker process{'es' if processes > 1 else ''}"
            print(f"  {label:<28} {took:8.1f} {args.pages / took:8.2f} {media / took:8.2f}   ({status})")
            results[f"queue{processes}"] = took
        return dict(results, requests=requests, media=media)


def leak_to_notice(args, service, keys, workdir: Path) -> None:
    studio = httpx.Client(base_url=service.url, headers={"Authorization": f"Bearer {keys['studio']}"}, timeout=600)
    crawler = httpx.Client(base_url=service.url, headers={"Authorization": f"Bearer {keys['crawler']}"}, timeout=60)
    seconds = args.clip_minutes * 60
    print(f"\n2. leak to notice: making {args.clip_minutes:g} min of 720p footage ...", flush=True)
    film = workdir / f"film-{seconds:g}s-720p.mp4"  # the same footage every run: kept in a --workdir
    if not film.exists():
        made = photo_footage(
            workdir / "film.partial.mp4", width=1280, height=720, seconds=seconds, fps=25, crf=20, seed=11
        )
        made.rename(film)
    t = time.perf_counter()
    with open(film, "rb") as fh:
        r = studio.post(
            "/works",
            files={"file": ("film.mp4", fh, "video/mp4")},
            data={"metadata": '{"title": "Benchmark Film", "kind": "film"}'},
        )
    r.raise_for_status()
    work_id = r.json()["work_id"]
    print(
        f"  registered in {time.perf_counter() - t:.1f} s; distributing (marking the platform's copy) ...", flush=True
    )
    t = time.perf_counter()
    with open(film, "rb") as fh:
        r = studio.post(
            f"/works/{work_id}/distributions",
            files={"file": ("film.mp4", fh, "video/mp4")},
            data={"distribution": '{"platform": "bench-platform", "session": "s-1"}'},
        )
    r.raise_for_status()
    dist_id = r.json()["id"]
    while (d := studio.get(f"/distributions/{dist_id}").json())["status"] not in ("ready", "failed"):
        time.sleep(1)
    if d["status"] != "ready":
        raise RuntimeError(d)
    print(f"  copy marked in {time.perf_counter() - t:.1f} s", flush=True)
    marked = workdir / "marked.mp4"
    marked.write_bytes(studio.get(d["copy"]["url"]).content)
    owner = studio.get("/accounts/me").json()["address"]
    steps(workdir, marked, WatermarkKeys(load_master_key(service.data_dir, None)).key_for(owner), seconds)
    runs = [("inline (crawl run started then)", None), ("queue (a worker already waiting)", QUEUE_DBS[2])]
    for n, (label, db) in enumerate(runs):
        # each run its own re-encode: bytes the service has seen before would skip matching
        leaked = transcode(marked, workdir / f"leaked-{n}.mp4", VideoAttack(crf=26 + n))
        print(
            f"  leaked copy {n + 1}: {seconds:.0f} s of 1280x720, {leaked.stat().st_size / 2**20:.1f} MiB", flush=True
        )
        with PiracySite() as site:
            seeds = workdir / f"leak-seeds-{n}.txt"
            index = site.url("/index.html")
            seeds.write_text(index + "\n")
            workers = env = None
            if db is not None:
                env = queue_env(service, keys["crawler"], db, workdir)
                workers = Workers(env, 1, workdir / f"leak-workers-{n}.log")
                time.sleep(3)
            try:
                began = time.perf_counter()
                site.publish("/films/leaked.mp4", leaked, "video/mp4")
                site.page("/watch.html", '<html><body><video src="/films/leaked.mp4"></video></body></html>')
                site.page("/index.html", '<html><body><a href="/watch.html">new film</a></body></html>')
                if db is None:
                    proc = subprocess.Popen(
                        [
                            str(REELLEDGER),
                            "crawl",
                            "run",
                            "--seeds",
                            str(seeds),
                            "--state",
                            str(workdir / f"leak-state-{n}"),
                            "--interval",
                            str(POLITE_INTERVAL),
                        ],
                        env=cli_env(service, keys["crawler"]),
                        stdout=subprocess.DEVNULL,
                        stderr=subprocess.DEVNULL,
                    )
                else:
                    submit(env, seeds, POLITE_INTERVAL)
                url = site.url("/films/leaked.mp4")
                while True:
                    cases = crawler.get("/cases", params={"limit": 500}).json()["items"]
                    case = next((c for c in cases if c["url"] == url), None)
                    if case is not None:
                        break
                    if time.perf_counter() - began > 1800:
                        raise RuntimeError("no case after 30 minutes")
                    time.sleep(0.2)
                took = time.perf_counter() - began
                if db is None:
                    proc.wait(600)
            finally:
                if workers is not None:
                    workers.stop()
            leak = case["leak"]["platform"]["name"] if case["leak"]["platform"] else "no platform"
            bundle = crawler.get(f"/cases/{case['id']}/evidence").json()
            print(
                f"  {label:<34} notice drafted {took:6.1f} s after the copy appeared "
                f"(traced to {leak}; {len(case['notices'])} notices; anchor {case['anchor']['status']}; "
                f"goal {GOAL_SECONDS:g} s: {'met' if took <= GOAL_SECONDS else 'NOT met'})\n"
                f"  {'':<34} {read_summary(bundle, seconds)}"
            )
            crawler.post(
                f"/cases/{case['id']}/checks", json={"alive": False, "http_status": 404}
            )  # next run: a new case


def steps(workdir: Path, marked: Path, key: bytes, seconds: float) -> None:
    """Each step of a verdict alone, on a copy leaked as the runs below leak theirs: what a
    full read costs against the staged one (wall and CPU seconds: on a shared machine the
    CPU seconds are what a quiet one would wait)."""
    from ledger.crawl.reporting import page_screenshot
    from ledger.distributions.trace import DEFAULT_SECONDS
    from ledger.matching import MAX_QUERY_SECONDS, STAGES
    from ledger.piracy.cases import MARK_FIRST_SECONDS
    from watermark.files import detect_file
    from watermark.hash_sequence import query_sequence

    copy = transcode(marked, workdir / "leaked-steps.mp4", VideoAttack(crf=26))
    print("  each step alone, on a copy leaked the same way      wall s    cpu s")

    def cpu_seconds() -> float:  # this process's threads and the children it waited for (chromium)
        mine, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
        return mine.ru_utime + mine.ru_stime + children.ru_utime + children.ru_stime

    def step(label: str, work) -> None:
        began, cpu = time.perf_counter(), cpu_seconds()
        work()
        cpu = cpu_seconds() - cpu
        print(f"    {label:<48} {time.perf_counter() - began:7.1f} {cpu:8.1f}", flush=True)

    step(f"fingerprint hashes, whole copy ({seconds:.0f} s)", lambda: query_sequence(copy, seconds=MAX_QUERY_SECONDS))
    step(f"fingerprint hashes, first stage ({STAGES[0]:g} s)", lambda: query_sequence(copy, seconds=STAGES[0]))
    step(
        f"watermark read, tracing's default ({DEFAULT_SECONDS:g} s)",
        lambda: detect_file(copy, [key], max_seconds=DEFAULT_SECONDS),
    )
    step(
        f"watermark read, first stretch ({MARK_FIRST_SECONDS:g} s)",
        lambda: detect_file(copy, [key], max_seconds=MARK_FIRST_SECONDS),
    )
    with PiracySite() as site:
        site.publish("/films/leaked.mp4", copy, "video/mp4")
        page = site.page("/watch.html", '<html><body><video src="/films/leaked.mp4"></video></body></html>')
        step("page screenshot (chromium)", lambda: page_screenshot(page, frozenset({"127.0.0.1"})))
    copy.unlink()


def read_summary(bundle: dict, seconds: float) -> str:
    """How much of the copy the case's verdict rests on, from its evidence bundle."""
    match, mark = bundle["match"], bundle["watermark"]
    compared = match.get("seconds_compared")
    if compared is None:
        hashed = "fingerprint compared on the whole copy"
    else:
        whole = " (the whole copy)" if match.get("whole_copy_compared") else ""
        hashed = f"fingerprint compared on {compared:.1f} s of {seconds:.0f} s{whole}"
    frames = f"watermark read on {mark['frames']} frames" if mark.get("found") else "no watermark read"
    return (
        f"{hashed}, {match['frames_agreeing']} of {match['frames']} frames agreeing "
        f"({match['duration_seconds']:.1f} s from {match['offset_seconds']:.1f} s in the work); {frames}"
    )


def sites_per_day(numbers: dict, pages: int) -> None:
    requests, inline = numbers["requests"], numbers["inline"]
    polite = max(requests * POLITE_INTERVAL, inline)
    per_site_work = inline
    print(f"\n3. sites per day at the polite limit ({POLITE_INTERVAL:g} s between two requests to one host)")
    print(
        f"  a site like run 1: {requests} requests ({pages} pages + media + robots.txt), "
        f"pipeline work {per_site_work:.1f} s"
    )
    print(f"  one inline crawler, one site at a time: {polite:.0f} s a site -> {86400 / polite:,.0f} sites a day")
    threads = 2
    worker_rate = max(requests * POLITE_INTERVAL / threads, numbers["queue1"])
    print(
        f"  one worker process, {threads} threads on {threads} hosts at once: {worker_rate:.0f} s a site -> "
        f"{86400 / worker_rate:,.0f} sites a day (bounded by its pipeline work, {numbers['queue1']:.1f} s a site)"
    )
    small = 20
    small_polite = max(small * POLITE_INTERVAL, inline * small / requests)
    print(f"  a small site of {small} requests: {small_polite:.0f} s -> {86400 / small_polite:,.0f} sites a day inline")


def run(args, workdir: Path) -> None:
    with BenchService() as service:
        keys = {role: service.create_account(role, f"bench-{role}") for role in ("rights_holder", "crawler")}
        keys["studio"] = keys["rights_holder"]
        service.create_account("platform", "bench-platform")
        if not args.capacity_only:
            numbers = throughput(args, service, keys["crawler"], workdir)
            if args.clip_minutes > 0:
                leak_to_notice(args, service, keys, workdir)
            sites_per_day(numbers, args.pages)
        capacity(args, service, keys["crawler"], workdir, sys.modules[__name__])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pages", type=int, default=100)
    parser.add_argument(
        "--clip-minutes", type=float, default=5.0, help="length of the leaked 720p film; 0 skips part 2"
    )
    parser.add_argument("--sites", type=int, default=400, help="sites crawled at once in part 4")
    parser.add_argument("--site-pages", type=int, default=50, help="pages of each site of part 4")
    parser.add_argument("--capacity-only", action="store_true", help="part 4 alone")
    parser.add_argument("--workdir", type=Path, default=None)
    parser.add_argument("--output", type=Path, default=None)
    args = parser.parse_args()
    full = all(getattr(args, k) == parser.get_default(k) for k in ("pages", "clip_minutes", "sites", "site_pages"))
    output = args.output or (DOC if full and not args.capacity_only else None)
    printed, elapsed = run_printing(run, args)
    if output is not None:
        output.write_text(
            "\n".join(
                [
                    "# Crawl benchmark",
                    "",
                    "Generated by `benchmarks/crawl.py`; do not edit by hand, run it again.",
                    "",
                    f"- Date: {dt.datetime.now().astimezone().strftime('%Y-%m-%d %H:%M %Z')}",
                    f"- Machine: {machine()}",
                    f"- Command: `scripts/bench-crawl{(' ' + ' '.join(sys.argv[1:])) if sys.argv[1:] else ''}` "
                    f"(took {elapsed / 60:.1f} min)",
                    f"- Code: {code_version(('ledger/crawl', 'ledger/piracy', 'benchmarks/crawl.py'))}",
                    "",
                    "```",
                    printed.rstrip(),
                    "```",
                    "",
                ]
            )
        )
        print(f"wrote {output}")


if __name__ == "__main__":
    main()
