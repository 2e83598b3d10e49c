"""A picture of a page as a visitor saw it, by Debian's chromium run headless.

A screenshot shows what the page's script put there (a player, a title, an advert), which
the HTML alone may not. It is a nicety beside the downloaded media, not a requirement: when
chromium is missing, fails or takes too long, `screenshot` says False and the crawl goes on.
"""

from __future__ import annotations

import os
import signal
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path
from urllib.parse import urlsplit

from ledger.crawl.config import USER_AGENT
from ledger.crawl.transport import is_public, must_be_public

DEFAULT_CHROMIUM = "/usr/bin/chromium"


def chromium_path() -> str:
    return os.environ.get("REELLEDGER_CHROMIUM", DEFAULT_CHROMIUM)


def resolver_rules(url: str, private_hosts: frozenset[str] = frozenset()) -> list[str] | None:
    """The chromium arguments that hold a page named by host name to the public address looked
    up here ([] when there is nothing to hold: an address in the URL, a host the operator lets
    be private); None when the name leads to a private address, or nowhere."""
    if not must_be_public(url, private_hosts):
        return []
    host = (urlsplit(url).hostname or "").lower()
    try:
        addresses = [info[4][0] for info in socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)]
    except OSError:
        return None
    if not addresses or not all(is_public(a) for a in addresses):
        return None
    address = f"[{addresses[0]}]" if ":" in addresses[0] else addresses[0]
    return [f"--host-resolver-rules=MAP {host} {address}"]


def screenshot(url: str, out_path: str | Path, timeout: float = 30, user_agent: str = USER_AGENT,
               private_hosts: frozenset[str] = frozenset()) -> bool:
    """Write a 1280 x 800 PNG of `url` to `out_path`; True when a non-empty file was written.
    The browser says who it is, as the crawl does (`user_agent`). A page named by a host that
    leads to a private address is not taken (the crawl's own rule, transport.py), and chromium
    is held to the public address looked up here, so that the site's DNS cannot send it
    elsewhere for the page itself; what the page then loads from other hosts is not checked."""
    binary, out = chromium_path(), Path(out_path)
    if not (os.path.isfile(binary) and os.access(binary, os.X_OK)):
        return False
    rules = resolver_rules(url, private_hosts)
    if rules is None:
        return False
    out.unlink(missing_ok=True)
    profile = tempfile.mkdtemp(prefix="reelledger-chromium-")  # its own profile: no lock shared with another run
    command = [
        binary, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", f"--user-data-dir={profile}",
        "--no-first-run", "--window-size=1280,800", f"--user-agent={user_agent}", f"--screenshot={out}",
        *rules, url,
    ]
    try:
        return _run(command, out, timeout)
    finally:
        shutil.rmtree(profile, ignore_errors=True)


def _run(command: list[str], out: Path, timeout: float) -> bool:
    try:  # its own process group: chromium's helper processes go with it on a timeout
        proc = subprocess.Popen(
            command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
        )
    except OSError:
        return False
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait()
        out.unlink(missing_ok=True)
        return False
    return out.is_file() and out.stat().st_size > 0
