"""Streaming upload: hashing throughput of a large upload through the API next to `sha256sum`
on the same file in the same run, and how much the service's peak memory grows.

    scripts/bench-upload [--gib 2]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import tempfile
import time
from pathlib import Path

import httpx

from benchmarks.service import BenchService

CHUNK = 4 * 1024 * 1024


# An ISO-BMFF 'ftyp' box: the service takes the upload for a video and keeps it on disk to
# fingerprint it (the rest is random, so decoding then finds no frames).
MP4_HEAD = b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2"


def make_file(path: Path, size: int, head: bytes = b"") -> None:
    """Incompressible content, so that nothing along the way can shortcut it."""
    with open(path, "wb") as fh:
        fh.write(head)
        written = len(head)
        while written < size:
            block = os.urandom(min(CHUNK, size - written))
            fh.write(block)
            written += len(block)


def stream(path: Path):
    with open(path, "rb") as fh:
        while chunk := fh.read(256 * 1024):
            yield chunk


def multipart_body(path: Path, boundary: str, metadata: dict):
    yield (
        f'--{boundary}\r\nContent-Disposition: form-data; name="metadata"\r\n\r\n'
        f'{json.dumps(metadata)}\r\n--{boundary}\r\nContent-Disposition: form-data; name="file"; '
        f'filename="{path.name}"\r\nContent-Type: application/octet-stream\r\n\r\n'
    ).encode()
    yield from stream(path)
    yield f"\r\n--{boundary}--\r\n".encode()


def timed(command: list[str]) -> tuple[float, str]:
    started = time.perf_counter()
    out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    return time.perf_counter() - started, out


def upload(service: BenchService, key: str, path: Path) -> tuple[float, dict, dict]:
    before = service.memory_kib()
    boundary = "reelledger-bench-" + os.urandom(8).hex()
    started = time.perf_counter()
    response = httpx.post(
        f"{service.url}/works",
        content=multipart_body(path, boundary, {"title": path.name, "kind": "film"}),
        headers={"Authorization": f"Bearer {key}", "content-type": f"multipart/form-data; boundary={boundary}"},
        timeout=httpx.Timeout(60, read=1800, write=1800),
    )
    elapsed = time.perf_counter() - started
    assert response.status_code in (201, 202), response.text
    return elapsed, response.json(), {"before": before, "after": service.memory_kib()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--gib", type=float, default=2.0)
    args = parser.parse_args()
    size = int(args.gib * 1024**3)
    mib = size / 1024**2
    workdir = Path(tempfile.mkdtemp(prefix="reelledger-upload-"))
    files = {
        "other content (hashed only)": workdir / "master.bin",
        "video container (hashed, head+tail stored)": workdir / "master.mp4",
    }
    print(f"writing 2 x {size / 1024**3:.1f} GiB of random bytes under {workdir} ...", flush=True)
    make_file(files["other content (hashed only)"], size)
    make_file(files["video container (hashed, head+tail stored)"], size, MP4_HEAD)
    os.sync()  # write back the test files now, so that their dirty pages do not throttle the upload
    print(f"upload of {size / 1024**3:.2f} GiB; every hash checked against sha256sum's")
    print(f"{'':<52}{'MiB/s':>8}{'vs sha256sum':>14}{'peak RSS growth':>17}")
    try:
        with BenchService() as service:
            key = service.create_account("rights_holder", "uploader")
            for label, path in files.items():
                timed(["sha256sum", str(path)])  # warm the page cache
                sha_s, out = timed(["sha256sum", str(path)])
                ssl_s, _ = timed(["openssl", "dgst", "-sha256", str(path)])
                api_s, work, memory = upload(service, key, path)
                assert work["work_id"] == "0x" + out.split()[0], "the service hashed something else"
                growth = (memory["after"]["VmHWM"] - memory["before"]["VmRSS"]) / 1024
                print(f"{'sha256sum, ' + label:<52}{mib / sha_s:>8.0f}")
                print(f"{'openssl dgst -sha256, ' + label:<52}{mib / ssl_s:>8.0f}{sha_s / ssl_s:>13.0%}")
                print(f"{'API upload, ' + label:<52}{mib / api_s:>8.0f}{sha_s / api_s:>13.0%}{growth:>14.0f} MiB")
    finally:
        for path in files.values():
            path.unlink(missing_ok=True)


if __name__ == "__main__":
    main()
