"""A picture of a page as a visitor saw it, by Debian's chromium run headless.

A screenshot shows what the page's script put there (a player, a title, an advert), which
the HTML alone may not. It is a nicety beside the downloaded media, not a requirement: when
chromium is missing, fails or takes too long, `screenshot` says False and the crawl goes on.
"""

from __future__ import annotations

import logging
import os
import shutil
import signal
import subprocess
import tempfile
from pathlib import Path

from ledger.crawl.config import USER_AGENT
from ledger.crawl.guard_proxy import GuardProxy, origin_of

DEFAULT_CHROMIUM = "/usr/bin/chromium"
log = logging.getLogger("reelledger.crawl")


def chromium_path() -> str:
    return os.environ.get("REELLEDGER_CHROMIUM", DEFAULT_CHROMIUM)


def screenshot(
    url: str,
    out_path: str | Path,
    timeout: float = 30,
    user_agent: str = USER_AGENT,
    private_hosts: frozenset[str] = frozenset(),
) -> bool:
    """Write a 1280 x 800 PNG of `url` to `out_path`; True when a non-empty file was written.
    The browser says who it is, as the crawl does (`user_agent`). Everything it loads goes
    through a GuardProxy, so the page and whatever its markup and scripts ask for reach public
    addresses only (the crawl's own rule, transport.py); a page whose own host may not be
    reached is not taken at all."""
    binary, out = chromium_path(), Path(out_path)
    if not (os.path.isfile(binary) and os.access(binary, os.X_OK)):
        return False
    with GuardProxy(url, private_hosts) as proxy:
        if not proxy.addresses_for(*origin_of(url)):
            return False
        out.unlink(missing_ok=True)
        profile = tempfile.mkdtemp(prefix="reelledger-chromium-")  # its own profile: no lock shared with another run
        command = [
            binary,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--hide-scrollbars",
            f"--user-data-dir={profile}",
            "--no-first-run",
            "--window-size=1280,800",
            f"--user-agent={user_agent}",
            f"--screenshot={out}",
            # every connection through the proxy, loopback too ("<-loopback>" drops chromium's own
            # bypass for it); no name looked up by chromium itself (prefetch, anything that would
            # go around the proxy), no QUIC, and no UDP of WebRTC's own
            f"--proxy-server={proxy.url}",
            "--proxy-bypass-list=<-loopback>",
            "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
            "--disable-quic",
            "--force-webrtc-ip-handling-policy=disable_non_proxied_udp",
            # as little of chromium's own traffic as it allows (Debian's build still asks Google's
            # update and account hosts at start; the proxy holds those to the same rule)
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-default-apps",
            "--disable-extensions",
            "--no-pings",
            url,
        ]
        try:
            return _run(command, out, timeout)
        finally:
            shutil.rmtree(profile, ignore_errors=True)
            if proxy.refused:
                log.info("screenshot of %s: refused to reach %s", url, ", ".join(sorted(set(proxy.refused))))


def _run(command: list[str], out: Path, timeout: float) -> bool:
    try:  # its own process group: chromium's helper processes go with it on a timeout
        proc = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
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
