"""`reelledger crawl`: find copies of registered works on the web, inline or on a Redis queue.

`crawl run` crawls in this process, with a progress bar, and reports what matches to the
service as the crawler account (REELLEDGER_URL, REELLEDGER_API_KEY). `crawl recheck` asks
whether the links of open cases are still up. `crawl submit` and `crawl worker` run the
same crawl on Dramatiq workers that share a Redis (REELLEDGER_REDIS_URL).
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from rich.markup import escape
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from ledger.cli.cases import work_name
from ledger.cli.client import Fitted, api_key, console, counted, err, listing

if TYPE_CHECKING:
    from ledger.crawl.config import CrawlConfig
    from ledger.crawl.crawler import CrawlStats
    from ledger.crawl.fetch import FetchedMedium
    from ledger.crawl.reporting import ServiceClient

crawl = typer.Typer(no_args_is_help=True, help="Crawl sites for copies of registered works.")

HOSTS_AT_ONCE = 16  # fetchers of one inline crawl: each waits out its host's interval, not the others'
SEEDS_HELP = "A file of seed URLs, one per line (# starts a comment)."


def read_seeds(path: Path) -> list[str]:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        err.print(f"[red]reelledger:[/red] cannot read the seeds file {path}: {exc}")
        raise typer.Exit(2) from None
    seeds = [line.split("#", 1)[0].strip() for line in lines]
    seeds = [s for s in seeds if s]
    if not seeds:
        err.print(f"[red]reelledger:[/red] {path} names no seed URL")
        raise typer.Exit(2)
    return seeds


def service_client() -> ServiceClient:
    from ledger.crawl.reporting import ServiceClient

    key = api_key("a crawler account's API key")
    return ServiceClient(os.environ.get("REELLEDGER_URL", "http://127.0.0.1:8000"), key)


PRIVATE_ADDRESS = "private_address"
PRIVATE_ADDRESS_HINT = (
    f"{PRIVATE_ADDRESS}: a host name that leads to a private or loopback address (such as localhost) is not "
    "fetched, lest a page steer the crawler into your own network; to crawl a test site there, name its host "
    "with --private-host (e.g. --private-host localhost)"
)
PRIVATE_HOST_HELP = (
    "A host name that may lead to a private address, such as localhost (repeatable); "
    "an address written in a URL always may."
)


def crawl_config(
    depth: int,
    max_pages: int,
    interval: float,
    max_media_mb: int,
    extra_host: list[str],
    ca_bundle: str | None,
    deadline: float = 300.0,
    private_host: list[str] | None = None,
) -> CrawlConfig:
    from ledger.crawl.config import CrawlConfig, MiB

    return CrawlConfig(
        max_depth=depth,
        max_pages=max_pages,
        host_interval=interval,
        resource_deadline=deadline,
        max_media_bytes=max_media_mb * MiB,
        extra_hosts=frozenset(extra_host or ()),
        private_hosts=frozenset(h.lower() for h in private_host or ()),
        verify=ca_bundle if ca_bundle else True,
    )


@crawl.command("run")
def run(
    seeds: Path = typer.Option(..., "--seeds", exists=True, dir_okay=False, help=SEEDS_HELP),
    depth: int = typer.Option(3, min=0, max=20, help="Links followed from a seed."),
    max_pages: int = typer.Option(1000, min=1, help="Pages fetched at most."),
    interval: float = typer.Option(1.0, min=0.0, help="Seconds between two requests to one host, at least."),
    max_media_mb: int = typer.Option(2048, min=1, help="Largest medium downloaded, in MiB."),
    deadline: float = typer.Option(300.0, min=1.0, help="Seconds one resource may take, however slowly it comes."),
    extra_host: list[str] = typer.Option(None, help="A host in scope besides the seeds' (repeatable)."),
    private_host: list[str] = typer.Option(None, help=PRIVATE_HOST_HELP),
    state_dir: Path = typer.Option(
        Path(".reelledger-crawl"), "--state", help="Remembers what was fetched, between runs."
    ),
    screenshots: bool = typer.Option(True, help="Attach a headless-Chromium screenshot of the page to each case."),
    ca_bundle: str = typer.Option(None, help="CA bundle to verify TLS sites with."),
    hosts_at_once: int = typer.Option(
        HOSTS_AT_ONCE, min=1, max=1024, help="Hosts crawled at the same time, each at its own interval."
    ),
) -> None:
    """Crawl from the seeds; every medium that matches a registered work is reported and
    becomes a case (evidence anchored on chain, notices drafted)."""
    from ledger.crawl.crawler import Crawler, Deferred
    from ledger.crawl.reporting import ServiceRefused, ServiceUnavailable, examine
    from ledger.crawl.state import SqliteCrawlState

    urls = read_seeds(seeds)
    service = service_client()
    config = crawl_config(depth, max_pages, interval, max_media_mb, extra_host, ca_bundle, deadline, private_host)
    state_dir.mkdir(parents=True, exist_ok=True)
    state = SqliteCrawlState(state_dir / "state.sqlite")
    found: list[dict[str, Any]] = []
    counts = {"matched": 0, "cases": 0, "refused": 0}
    columns = (SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn())
    try:
        with (
            Crawler(urls, state_dir / "work", config, state=state) as crawler,
            Progress(*columns, console=err, transient=True) as bar,
        ):
            task = bar.add_task("starting")

            def show(stats: CrawlStats) -> None:
                skipped = sum(stats.skipped.values())
                bar.update(
                    task,
                    description=f"{counted(stats.pages, 'page')}, {counted(stats.media, 'medium', 'media')}, "
                    f"{counts['matched']} matched, "
                    f"{counted(counts['cases'], 'new case')}, {skipped} skipped",
                )

            def on_medium(medium: FetchedMedium) -> bool | None:
                try:
                    bar.update(task, description=f"examining {medium.url}")
                    result = examine(service, medium, screenshots, config.private_hosts)
                except ServiceRefused as exc:
                    if exc.bad_key:  # no medium will fare better: stop, remembering nothing of this one
                        raise
                    counts["refused"] += 1  # remembered: the same bytes would be refused again
                    err.print(f"[yellow]not reported[/yellow] {escape(medium.url)}: {escape(str(exc))}")
                    return None
                except ServiceUnavailable as exc:
                    if exc.status is None:  # no service at all: stop; nothing unreported is remembered
                        raise
                    err.print(f"[yellow]deferred[/yellow] {escape(medium.url)}: {escape(str(exc))}")
                    raise Deferred(str(exc)) from None
                finally:
                    medium.path.unlink(missing_ok=True)
                if result.matched:
                    counts["matched"] += 1
                    counts["cases"] += result.created
                    assert result.case is not None  # a match opens or finds a case
                    found.append(result.case)
                return result.matched

            stats = crawler.run(on_medium, progress=show, hosts_at_once=hosts_at_once)
    except (ServiceUnavailable, ServiceRefused) as exc:
        err.print(
            f"[red]reelledger:[/red] {exc}; the crawl stopped (run it again: what was not reported is fetched again)"
        )
        raise typer.Exit(1) from None
    except ValueError as exc:
        err.print(f"[red]reelledger:[/red] {exc}")
        raise typer.Exit(2) from None
    finally:
        state.close()
        service.close()
    console.print(
        f"crawled {counted(stats.pages, 'page')}, downloaded {counted(stats.media, 'medium', 'media')} "
        f"({counted(f'{stats.bytes:,}', 'byte')}); "
        f"{counts['matched']} matched a registered work, {counted(counts['cases'], 'new case')}"
    )
    if stats.skipped:
        console.print("skipped: " + ", ".join(f"{n} {reason}" for reason, n in sorted(stats.skipped.items())))
    if stats.skipped.get(PRIVATE_ADDRESS):
        console.print(PRIVATE_ADDRESS_HINT)
    if found:
        table = listing("case", "work", "url", "leaked by", "evidence")
        for case in found:
            leak = case["leak"]["platform"]["name"] if case["leak"]["platform"] else "-"
            table.add_row(
                str(case["id"]),
                work_name(case),
                case["url"],
                leak,
                f"{case['evidence_hash'][:10]}… {case['anchor']['status']}",
            )
        console.print(table)
        console.print("each case in full, its evidence hash whole: reelledger cases show CASE")


@crawl.command("recheck")
def recheck(
    every: float = typer.Option(0, min=0, help="Seconds between passes; 0: one pass."),
    interval: float = typer.Option(1.0, min=0.0, help="Seconds between two requests to one host, at least."),
    extra_host: list[str] = typer.Option(None, help="A host a link may redirect to (a CDN), besides its own."),
    private_host: list[str] = typer.Option(None, help=PRIVATE_HOST_HELP),
    ca_bundle: str = typer.Option(None, help="CA bundle to verify TLS sites with."),
) -> None:
    """Check whether the links of your open cases are still up; a gone link closes its case."""
    from ledger.crawl.recheck import recheck_pass

    service = service_client()
    config = crawl_config(0, 1, interval, 1, extra_host, ca_bundle, private_host=private_host)
    from ledger.crawl.reporting import ServiceRefused, ServiceUnavailable

    try:
        while True:
            try:
                results = recheck_pass(service, config)
            except (ServiceRefused, ServiceUnavailable) as exc:
                err.print(f"[red]reelledger:[/red] {exc}")
                raise typer.Exit(1) from None
            for case, state in results:
                verdict = {True: "[yellow]alive[/yellow]", False: "[green]gone[/green]", None: "unknown"}[state.alive]
                console.print(Fitted(f"case {case['id']}:", case["url"]))
                console.print(f"  {verdict}: {escape(str(state.detail))}")
            console.print(f"{counted(len(results), 'open case')} checked")
            if not every:
                return
            time.sleep(every)
    finally:
        service.close()


@crawl.command("submit")
def submit(
    seeds: Path = typer.Option(..., "--seeds", exists=True, dir_okay=False, help=SEEDS_HELP),
    depth: int = typer.Option(3, min=0, max=20),
    max_pages: int = typer.Option(1000, min=1),
    interval: float = typer.Option(1.0, min=0.0, help="Seconds between two requests to one host, over all workers."),
    max_media_mb: int = typer.Option(2048, min=1),
    deadline: float = typer.Option(300.0, min=1.0),
    extra_host: list[str] = typer.Option(None),
    private_host: list[str] = typer.Option(None, help=PRIVATE_HOST_HELP),
    screenshots: bool = typer.Option(True),
    rescan_every: float = typer.Option(0, min=0, help="Seconds between rescans of the seeds; 0: none."),
    recheck_every: float = typer.Option(0, min=0, help="Also re-check open cases' links this often; 0: no."),
    ca_bundle: str = typer.Option(None),
) -> None:
    """Put a crawl on the Redis queue for `reelledger crawl worker` processes; prints the job id.
    The job is filed under the crawler account whose key is in REELLEDGER_API_KEY, so that its
    progress shows in that account's web console."""
    import redis

    from ledger.crawl import jobs
    from ledger.crawl.reporting import ServiceRefused, ServiceUnavailable

    config = crawl_config(depth, max_pages, interval, max_media_mb, extra_host, ca_bundle, deadline, private_host)
    service = service_client()
    try:
        me = service.me()
    except (ServiceRefused, ServiceUnavailable) as exc:
        err.print(f"[red]reelledger:[/red] {exc}")
        raise typer.Exit(1) from None
    finally:
        service.close()
    if me["role"] != "crawler":
        err.print("[red]reelledger:[/red] REELLEDGER_API_KEY is not a crawler account's key")
        raise typer.Exit(2)
    try:
        job_id = jobs.submit(
            read_seeds(seeds),
            config,
            screenshots=screenshots,
            rescan_every=rescan_every or None,
            submitter=me["address"],
        )
        if recheck_every and not jobs.start_rechecks(recheck_every, config):
            err.print("re-checks are already scheduled; not starting another chain")
    except redis.RedisError as exc:
        err.print(f"[red]reelledger:[/red] the queue's Redis ({jobs.redis_url()}) does not answer: {exc}")
        raise typer.Exit(1) from None
    console.print(job_id)  # alone on stdout, for scripts; the hint on stderr
    err.print(
        f"queued; a worker takes it (reelledger crawl worker). Follow it: reelledger crawl status {job_id} --wait"
    )


@crawl.command("status")
def status(
    job_id: str, wait: bool = typer.Option(False, help="Follow the job with a progress bar until it is done.")
) -> None:
    """A queued crawl's progress: pages, media, matches, new cases, what was skipped."""
    import redis

    from ledger.crawl import jobs

    def line(counts: dict[str, Any]) -> str:
        skipped = sum(v for k, v in counts.items() if k.startswith("skipped:"))
        return (
            f"{counted(counts.get('pages', 0), 'page')}, {counted(counts.get('media', 0), 'medium', 'media')}, "
            f"{counts.get('matched', 0)} matched, "
            f"{counted(counts.get('cases', 0), 'new case')}, {skipped} skipped; {counts.get('done', 0)} of "
            f"{counted(counts.get('queued', 0), 'task')} done"
            + (f", {counts['failed']} failed" if counts.get("failed") else "")
        )

    try:
        counts = jobs.status(job_id)
        if wait:
            with Progress(
                SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(), console=err, transient=True
            ) as bar:
                task = bar.add_task(line(counts))
                while not counts["finished"]:
                    time.sleep(0.5)
                    counts = jobs.status(job_id)
                    bar.update(task, description=line(counts))
    except LookupError as exc:
        err.print(f"[red]reelledger:[/red] {exc}")
        raise typer.Exit(1) from None
    except redis.RedisError as exc:
        err.print(f"[red]reelledger:[/red] the queue's Redis does not answer: {exc}")
        raise typer.Exit(1) from None
    console.print(("finished: " if counts["finished"] else "running: ") + line(counts))
    if counts.get(f"skipped:{PRIVATE_ADDRESS}"):
        console.print(PRIVATE_ADDRESS_HINT)


@crawl.command("worker")
def worker(
    processes: int = typer.Option(1, min=1, help="Worker processes."),
    threads: int = typer.Option(
        16,
        min=1,
        help="Threads per process: messages come when their host is due, so each serves many hosts.",
    ),
) -> None:
    """Run a crawl worker on the Redis queue (Dramatiq); stop it with Ctrl-C. It reports what it
    finds to the service at REELLEDGER_URL as the crawler account of REELLEDGER_API_KEY."""
    import sys

    # checked here, not in every message: a worker without it would take jobs and fail each one
    api_key("a crawler account's key: the worker reports what it finds to the service as that account")

    from ledger.crawl.jobs import MEDIA_QUEUE, PAGES_QUEUE

    argv = [
        sys.executable,
        "-m",
        "ledger.queue_worker",
        "ledger.crawl.jobs",
        "--processes",
        str(processes),
        "--threads",
        str(threads),
        "--queues",
        PAGES_QUEUE,
        MEDIA_QUEUE,
    ]
    os.execv(sys.executable, argv)
