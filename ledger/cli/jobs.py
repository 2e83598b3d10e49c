"""`reelledger jobs` follows media jobs (a master being hashed, a copy being marked) with a
progress bar; `reelledger media worker` runs them on the Redis queue (Dramatiq)."""

from __future__ import annotations

import os
import time
from typing import Any

import typer
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn

from ledger.cli.client import Facts, _call, console, err, listing, moment, work_titles

jobs = typer.Typer(no_args_is_help=True, help="Follow media jobs: masters being hashed, copies being marked.")
media = typer.Typer(no_args_is_help=True, help="Run media jobs on the Redis queue.")

LABELS = {"hash_master": "hashing frames", "mark_copy": "marking the copy"}
FINISHED = ("done", "failed")


def follow(job: dict[str, Any], poll: float = 0.5) -> dict[str, Any]:
    """Poll the job until it is done or failed, with a progress bar on stderr."""
    columns = (TextColumn("{task.description}"), BarColumn(), TaskProgressColumn(), TimeElapsedColumn())
    with Progress(*columns, console=err, transient=True) as bar:
        task = bar.add_task(LABELS.get(job["kind"], job["kind"]), total=None)
        while job["status"] not in FINISHED:
            time.sleep(poll)
            job = _call("GET", f"/jobs/{job['id']}")
            p = job["progress"]
            status = f"{LABELS.get(job['kind'], job['kind'])} ({job['status']})"
            done = p["total"] if job["status"] == "done" and p["total"] else p["done"]  # a done job's bar is full
            bar.update(task, description=status, completed=done, total=p["total"])
    return job


def refused(job: dict[str, Any]) -> None:
    """A failed job's reason, and exit 1."""
    error = job.get("error") or {}
    err.print(f"[red]job {job['id']} failed ({error.get('code', '')}):[/red] {error.get('message', '')}")
    raise typer.Exit(1)


def _line(job: dict[str, Any]) -> str:
    p = job["progress"]
    share = f"{p['fraction']:.0%}" if p["fraction"] is not None else f"{p['done']:g}"
    return f"job {job['id']} {job['kind']}: {job['status']} {share}"


@jobs.command("show")
def show(job_id: int, wait: bool = typer.Option(False, help="Follow it with a progress bar until it ends.")) -> None:
    """A job's status, progress, and result or error."""
    job = _call("GET", f"/jobs/{job_id}")
    if wait:
        job = follow(job)
    console.print(_line(job))
    if job["status"] == "failed":
        refused(job)
    facts = Facts(indent=2)
    for name, value in (job.get("result") or {}).items():
        if value is not None:
            facts.add_row(name.replace("_", " "), str(value))
    console.print(facts)


@jobs.command("list")
def list_jobs(offset: int = typer.Option(0), limit: int = typer.Option(50)) -> None:
    page = _call("GET", "/jobs", params={"offset": offset, "limit": limit})
    table = listing("id", "kind", "status", "progress", "of", "created")
    table.columns[-1].no_wrap = True  # a time whole, on one line
    titles = work_titles(
        {str(job["result"]["work_id"]) for job in page["items"] if (job.get("result") or {}).get("work_id")}
    )
    for job in page["items"]:
        fraction = job["progress"]["fraction"]
        table.add_row(
            str(job["id"]),
            job["kind"],
            job["status"],
            "" if fraction is None else f"{fraction:.0%}",
            _made(job.get("result") or {}, titles),
            moment(job["created_at"]),
        )
    console.print(table)
    console.print(f"{len(page['items'])} of {page['total']}")


def _made(result: dict[str, Any], titles: dict[str, str]) -> str:
    """What the job made, by name: the work's title and shortened id, or the distribution."""
    from ledger.piracy.notices import short_id

    if result.get("work_id"):
        work_id = result["work_id"]
        return f"{titles[work_id]} {short_id(work_id)}" if work_id in titles else work_id
    if result.get("distribution_id") is not None:
        return f"distribution {result['distribution_id']}"
    return "-"


@media.command("worker")
def worker(
    processes: int = typer.Option(1, min=1, help="Worker processes."),
    threads: int = typer.Option(1, min=1, help="Threads per process (each hashes or marks one file at a time)."),
) -> None:
    """Run a media worker on the Redis queue (Dramatiq); stop it with Ctrl-C. It needs the
    service's database (REELLEDGER_DATABASE_URL), data directory (REELLEDGER_DATA_DIR, shared),
    master key (REELLEDGER_MASTER_KEY, or the key file there) and REELLEDGER_REDIS_URL."""
    import sys

    from ledger.media_jobs.queue import MEDIA_QUEUE

    argv = [sys.executable, "-m", "ledger.queue_worker", "ledger.media_jobs.worker"]
    argv += ["--processes", str(processes), "--threads", str(threads), "--queues", MEDIA_QUEUE]
    os.execv(sys.executable, argv)
