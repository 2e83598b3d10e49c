"""Part 4 of the crawl benchmark: many hosts at once, each at the polite interval.

--sites sites, each a piracy test site on a loopback address of its own (127.0.2.1,
127.0.2.2, ...: any 127.x.y.z reaches loopback on Linux, and an address written in a URL is
the operator's own choice, so the crawl's guard against private addresses lets it through
as it does the tests' 127.0.0.1), each of --site-pages pages (an index linking every page,
each page linking back and to its neighbours) and two media (320 x 180 JPEGs of unrelated
photographs, different on every site, reported to the service to be matched). The whole set
is crawled at 1 s between two requests to one host (robots.txt read and obeyed, every guard
of a real crawl on): inline (`crawl run --hosts-at-once`), then on the queue with one and
with two worker processes. The sites a day are measured, not modelled: sites crawled over
the wall time it took, times a day. The CPU seconds say how much of the machine the crawl
took (a crawl bounded by politeness, not CPU, has room for more hosts at once).
"""

from __future__ import annotations

import os
import resource
import threading
import time
from pathlib import Path
from types import ModuleType

import cv2
import numpy as np

from tests.helpers.piracy_site import PiracySite
from watermark.testimages import UNRELATED_PHOTOGRAPHS, photograph

INTERVAL = 1.0
HOSTS_AT_ONCE = 128  # inline fetchers
THREADS = 64  # per worker process


def address(k: int) -> str:
    return f"127.0.{2 + k // 250}.{1 + k % 250}"


def _jpeg(seed: int) -> bytes:
    rng = np.random.default_rng(seed)
    photo = photograph(UNRELATED_PHOTOGRAPHS[seed % len(UNRELATED_PHOTOGRAPHS)])
    if photo.ndim == 2:
        photo = np.dstack([photo] * 3)
    h, w = photo.shape[:2]
    y, x = int(rng.integers(0, h // 3)), int(rng.integers(0, w // 3))
    crop = cv2.resize(np.ascontiguousarray(photo[y : y + 2 * h // 3, x : x + 2 * w // 3, :3]), (320, 180))
    ok, data = cv2.imencode(".jpg", cv2.cvtColor(crop, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 85])
    assert ok
    return data.tobytes()


def build(site: PiracySite, k: int, pages: int) -> str:
    """One site: its index URL."""
    names = [f"/p{i}.html" for i in range(1, pages)]
    images = [site.publish(f"/img/{k}-{n}.jpg", _jpeg(2 * k + n), "image/jpeg") for n in range(2)]
    for i, name in enumerate(names):
        near = "".join(f'<a href="{names[j]}">n</a>' for j in (i - 1, i + 1) if 0 <= j < len(names))
        medium = f'<img src="{images[1]}">' if i == 0 else ""
        site.page(name, f'<html><body><a href="/">home</a>{near}<p>page {i}</p>{medium}</body></html>')
    links = "".join(f'<a href="{n}">{n}</a>' for n in names)
    return site.page("/", f'<html><body><img src="{images[0]}">{links}</body></html>')


def _cpu() -> tuple[float, float]:
    """CPU seconds of this process (the sites) and of the children waited for (the crawl)."""
    mine, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return mine.ru_utime + mine.ru_stime, children.ru_utime + children.ru_stime


def _load() -> str:
    return "load average " + ", ".join(f"{x:.2f}" for x in os.getloadavg())


def capacity(args, service, crawler_key: str, workdir: Path, bench: ModuleType) -> dict:
    """`bench`: the benchmark's main module, whose helpers start workers and submit jobs."""
    n, pages = args.sites, args.site_pages
    print(
        f"\n4. many hosts at once: {n} sites of {pages} pages and 2 media, each on a loopback address of its "
        f"own, {INTERVAL:g} s between two requests to one host",
        flush=True,
    )
    sites = [PiracySite(address(k), poll=1.0).__enter__() for k in range(n)]
    try:
        seeds = workdir / "capacity-seeds.txt"
        seeds.write_text("".join(build(site, k, pages) + "\n" for k, site in enumerate(sites)))
        print(f"  {_load()} before the runs (the machine's 2 cores are shared with other work)")
        print(
            f"  {'run':<40} {'seconds':>8} {'requests':>8} {'pages/s':>8} {'req/s':>7} "
            f"{'crawl cpu s':>11} {'sites cpu s':>11} {'sites a day':>12}"
        )
        results: dict[str, float] = {}
        cpu: dict[str, tuple[float, int]] = {}  # label -> (CPU seconds a request, processes)
        per_site = 0.0
        runs: list[tuple[str, str, int | None]] = [("inline", f"inline, {HOSTS_AT_ONCE} hosts at once", None)]
        for p in (1, 2):
            runs.append((f"queue{p}", f"queue, {p} worker process{'es' if p > 1 else ''} x {THREADS} threads", p))
        for n_run, (key, label, processes) in enumerate(runs):
            own, children = _cpu()
            if processes is None:
                env = bench.cli_env(service, crawler_key)
                state = workdir / f"capacity-state-{n_run}"
                hosts = ("--hosts-at-once", str(HOSTS_AT_ONCE))
                took, status = bench.run_inline(env, seeds, state, INTERVAL, 2, n * pages, *hosts)
            else:
                env = bench.queue_env(service, crawler_key, bench.QUEUE_DBS[3], workdir)  # flushed for each run
                workers = bench.Workers(env, processes, workdir / f"capacity-workers{processes}.log", threads=THREADS)
                try:
                    time.sleep(3)  # the workers boot
                    began = time.perf_counter()
                    status = bench.wait_job(env, bench.submit(env, seeds, INTERVAL, depth=2, hosts=n))
                    took = time.perf_counter() - began
                finally:
                    workers.stop()
            requests = sum(len(site.requests()) for site in sites)
            own_after, children_after = _cpu()
            per_day = n * 86400 / took
            print(
                f"  {label:<40} {took:8.1f} {requests:8d} {n * pages / took:8.2f} {requests / took:7.1f} "
                f"{children_after - children:11.1f} {own_after - own:11.1f} {per_day:12,.0f}"
            )
            print(f"  {'':<40} {status}; {_load()}", flush=True)
            results[key] = took
            cpu[label] = ((children_after - children) / requests, processes or 1)
            per_site = requests / n
            for site in sites:
                site.log.clear()  # the next run's requests alone
    finally:
        stoppers = [threading.Thread(target=site.__exit__, args=(None, None, None)) for site in sites]
        for stopper in stoppers:  # at once: each takes up to its poll interval
            stopper.start()
        for stopper in stoppers:
            stopper.join()
    print(
        "  the crawl's CPU per request (its processes only: not the sites' serving nor the service's matching), "
        "and the sites a day its processes would crawl with a core each to themselves (a process is one core "
        "at most: Python's lock):"
    )
    for label, (seconds, processes) in cpu.items():
        print(f"    {label:<40} {seconds * 1000:6.1f} ms -> {processes / seconds / per_site * 86400:12,.0f}")
    return results
