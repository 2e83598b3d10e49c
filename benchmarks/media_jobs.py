"""Registering a video master: how long the client waits for an answer when the service hashes
its frames in the request (POST /works) and when it stores the upload and answers with a job
(POST /works/jobs), and how long that job then takes to register the work, in the same run on
two clips of the same footage (inline jobs: the embedded default).

    scripts/bench-media-jobs [--seconds 20] [--width 1280 --height 720]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import httpx

from benchmarks.service import BenchService
from watermark.testvideos import photo_footage


def post(service: BenchService, key: str, path: Path, route: str) -> tuple[float, httpx.Response]:
    started = time.perf_counter()
    with open(path, "rb") as fh:
        response = httpx.post(
            service.url + route,
            files={"file": (path.name, fh, "video/mp4")},
            data={"metadata": json.dumps({"title": path.stem, "kind": "film"})},
            headers={"Authorization": f"Bearer {key}"},
            timeout=httpx.Timeout(60, read=3600, write=3600),
        )
    return time.perf_counter() - started, response


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--width", type=int, default=1280)
    parser.add_argument("--height", type=int, default=720)
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="reelledger-media-jobs-"))
    print(f"making 2 clips of {args.seconds:g} s at {args.width}x{args.height} under {workdir} ...", flush=True)
    clips = [
        photo_footage(workdir / f"master-{n}.mp4", width=args.width, height=args.height, seconds=args.seconds, seed=n)
        for n in (1, 2)
    ]
    with BenchService() as service:
        key = service.create_account("rights_holder", "studio")
        sync_s, answer = post(service, key, clips[0], "/works")
        assert answer.status_code in (201, 202), answer.text
        job_answer_s, answer = post(service, key, clips[1], "/works/jobs")
        assert answer.status_code == 202, answer.text
        job = answer.json()
        started = time.perf_counter() - job_answer_s
        while job["status"] not in ("done", "failed"):
            time.sleep(0.05)
            job = httpx.get(f"{service.url}/jobs/{job['id']}", headers={"Authorization": f"Bearer {key}"}).json()
        job_done_s = time.perf_counter() - started
        assert job["status"] == "done", job
    per_film = 7200 / args.seconds
    print(f"{'':<48}{'seconds':>9}{'x 2 h film':>12}")
    for label, seconds, scales in (
        ("POST /works: answered (hashed in the request)", sync_s, True),
        ("POST /works/jobs: answered (stored, a job)", job_answer_s, False),
        ("POST /works/jobs: the job done (work registered)", job_done_s, True),
    ):
        film = f"{seconds * per_film / 60:>10.1f} m" if scales else ""
        print(f"{label:<48}{seconds:>9.2f}{film}")
    for clip in clips:
        clip.unlink(missing_ok=True)


if __name__ == "__main__":
    main()
