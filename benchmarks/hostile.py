"""Hostile bodies: what they cost a ReelLedger service in its own process.

Deeply nested arrays and objects (80,000 and 1,000,000 levels), wide arrays, long strings,
bodies past the size caps, and nested or oversized JSON and NDJSON play reports, sent with no
key and with the key of each role to the routes that read a body before or after
authentication. For each: the status and error code, the time to the answer, and the service
process's peak resident memory during that request (the kernel's high-water mark, reset
before each case through /proc/PID/clear_refs), and at the end whether the process still
answers /health.

The bound (api/limits.py, ledger/json_limits.py): a JSON body is refused past 32 levels of nesting
as it streams in, whatever its route; a body parsed whole is at most 1 MiB (16 MiB on /works
and /match); a play report streams uncapped but a JSON row or string is at most 16 MiB and an
NDJSON line 16 MiB.

    scripts/bench-hostile [--quick]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import httpx

from benchmarks.service import BenchService

MiB = 1 << 20
WORK = "0x" + "ab" * 32
ROW = json.dumps(
    {
        "work": WORK,
        "territory": "CN",
        "date": "2026-11-16",
        "plays": 5,
        "valid_plays": 4,
        "watch_minutes": 9,
        "ad_revenue": 0,
        "currency": "CNY",
    }
)
REPORT = {"report_id": "hostile", "period_start": "2026-11-16", "period_end": "2026-11-22", "currency": "CNY"}
ROLES = ("rights_holder", "platform", "crawler", "auditor", "admin")


def deep_array(n: int) -> bytes:
    return b"[" * n + b"]" * n


def deep_object(n: int) -> bytes:
    return b'{"a":' * n + b"1" + b"}" * n


def wide_array(size: int) -> bytes:
    return b"[" + b"0," * (size // 2 - 2) + b"0]"


def wide_objects(size: int) -> bytes:
    return b"[" + b"{}," * (size // 3 - 2) + b"{}]"


def long_string(size: int) -> bytes:
    return b'{"title": "' + b"x" * (size - 16) + b'"}'


def generic_cases(quick: bool) -> list[tuple[str, bytes, str]]:
    """(name, body, content type): sent to every JSON route by every caller."""
    cases = [
        ("deep array 80k", deep_array(80_000), "application/json"),
        ("deep object 80k", deep_object(80_000), "application/json"),
        ("deep array 80k, no type", deep_array(80_000), ""),
    ]
    if not quick:
        cases += [
            ("deep array 1M", deep_array(1_000_000), "application/json"),
            ("deep object 1M", deep_object(1_000_000), "application/json"),
        ]
    return cases


def special_cases(quick: bool) -> list[tuple[str, str, bytes, str, str | None, dict]]:
    """(name, path, body, content type, role, query) sent once each."""
    big = 16 * MiB - 64
    cases = [
        ("wide array 1 MiB", "/accounts", wide_array(MiB - 64), "application/json", None, {}),
        ("wide array 1 MiB", "/console/session", wide_array(MiB - 64), "application/json", None, {}),
        ("over the cap (2 MiB)", "/accounts", wide_array(2 * MiB), "application/json", None, {}),
        ("wide objects 16 MiB", "/works", wide_objects(big), "application/json", "rights_holder", {}),
        ("wide array 16 MiB", "/match", wide_array(big), "application/json", "crawler", {}),
        ("string 16 MiB", "/works", long_string(big), "application/json", "rights_holder", {}),
        ("over the cap (17 MiB)", "/works", long_string(17 * MiB), "application/json", "rights_holder", {}),
        ("deep form field 30k", "/works", b"", "multipart", "rights_holder", {}),
        (
            "JSON report, deep row 80k",
            "/reports",
            b'{"rows": [' + ROW.encode() + b", " + deep_array(80_000) + b"]}",
            "application/json",
            "platform",
            REPORT,
        ),
        (
            "NDJSON report, deep line 80k",
            "/reports",
            ROW.encode() + b"\n" + deep_array(80_000) + b"\n",
            "application/x-ndjson",
            "platform",
            REPORT,
        ),
        (
            "JSON report, deep row 80k",
            "/reports/check",
            b"[" + deep_array(80_000) + b"]",
            "application/json",
            "platform",
            {},
        ),
        (
            "NDJSON report, deep line 80k",
            "/reports/check",
            deep_array(80_000) + b"\n",
            "application/x-ndjson",
            "platform",
            {},
        ),
    ]
    if not quick:
        cases += [
            (
                "JSON report, deep 1M",
                "/reports",
                b"[" + deep_array(1_000_000) + b"]",
                "application/json",
                "platform",
                REPORT,
            ),
            (
                "NDJSON report, deep line 1M",
                "/reports",
                deep_array(1_000_000) + b"\n",
                "application/x-ndjson",
                "platform",
                REPORT,
            ),
            (
                "JSON report, 64 MiB string",
                "/reports",
                b"[" + long_string(64 * MiB) + b"]",
                "application/json",
                "platform",
                REPORT,
            ),
            (
                "NDJSON report, 32 MiB line",
                "/reports",
                long_string(32 * MiB) + b"\n",
                "application/x-ndjson",
                "platform",
                REPORT,
            ),
            (
                "wide JSON report, 500k rows {}",
                "/reports/check",
                b'{"rows": ' + wide_objects(1_500_000) + b"}",
                "application/json",
                "platform",
                {},
            ),
        ]
    return cases


class Probe:
    def __init__(self, service: BenchService) -> None:
        self.service = service
        self.keys = {role: service.create_account(role, f"hostile-{role}") for role in ROLES}
        self.results: list[dict] = []

    def reset_peak(self) -> None:
        Path(f"/proc/{self.service.process.pid}/clear_refs").write_text("5")

    def send(self, name: str, path: str, body: bytes, content_type: str, role: str | None, params: dict) -> None:
        headers = {"Authorization": f"Bearer {self.keys[role]}"} if role else {}
        files = None
        if content_type == "multipart":
            files = {
                "metadata": (None, deep_array(30_000)),
                "file": ("film.bin", b"\0" * 1024, "application/octet-stream"),
            }
        elif content_type:
            headers["content-type"] = content_type
        self.reset_peak()
        started = time.perf_counter()
        try:
            response = httpx.post(
                self.service.url + path,
                content=None if files else body,
                files=files,
                headers=headers,
                params=params,
                timeout=httpx.Timeout(120),
            )
            status = response.status_code
            code = (
                response.json().get("error", {}).get("code", "")
                if "json" in response.headers.get("content-type", "")
                else ""
            )
        except httpx.HTTPError as exc:
            status, code = "-", type(exc).__name__
        elapsed = time.perf_counter() - started
        if self.service.process.poll() is not None:
            raise SystemExit(
                f"the service died on {name} to {path} as {role or 'no key'} "
                f"(exit status {self.service.process.returncode}; {status} {code})"
            )
        memory = self.service.memory_kib()
        self.results.append(
            {
                "case": name,
                "path": path.replace(WORK, "{id}"),
                "as": role or "no key",
                "bytes": len(body),
                "status": status,
                "code": code,
                "seconds": round(elapsed, 3),
                "peak_mib": round(memory["VmHWM"] / 1024, 1),
            }
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="80k-deep bodies and the special cases below 17 MiB only.")
    args = parser.parse_args()
    with BenchService() as service:
        probe = Probe(service)
        start = service.memory_kib()
        for role in (None, *ROLES):
            for name, body, content_type in generic_cases(args.quick):
                for path in (
                    "/console/session",
                    "/accounts",
                    "/works",
                    "/works/" + WORK + "/licences",
                    "/reports/check",
                ):
                    probe.send(name, path, body, content_type, role, {})
        for case in special_cases(args.quick):
            probe.send(*case)
        health = httpx.get(service.url + "/health", timeout=10).status_code
        end = service.memory_kib()
    print(f"{'case':32} {'path':22} {'as':14} {'bytes':>10} {'status':>6} {'code':22} {'s':>7} {'peak MiB':>8}")
    for r in probe.results:
        print(
            f"{r['case']:32} {r['path']:22} {r['as']:14} {r['bytes']:>10} {r['status']:>6} {r['code']:22} "
            f"{r['seconds']:>7} {r['peak_mib']:>8}"
        )
    worst = max(probe.results, key=lambda r: r["peak_mib"])
    statuses = sorted({str(r["status"]) for r in probe.results})
    print(f"\n{len(probe.results)} requests, statuses {', '.join(statuses)}; /health afterwards: {health}")
    print(
        f"service RSS before {start['VmRSS'] / 1024:.1f} MiB (peak {start['VmHWM'] / 1024:.1f} MiB), "
        f"after {end['VmRSS'] / 1024:.1f} MiB; highest peak during one request {worst['peak_mib']} MiB "
        f"({worst['case']} to {worst['path']})"
    )


if __name__ == "__main__":
    main()
