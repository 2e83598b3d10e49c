"""Every setting of the service, read once from the environment (prefix ``REELLEDGER_``).

The defaults are the embedded ones ``scripts/run`` starts with: SQLite and a managed Anvil
node, both under the repository's ``data`` directory, and the API on 127.0.0.1:8000. That
directory is named from the repository, not from where a command runs, so that `reelledger
accounts create` or `reelledger audit period` run from anywhere open the service's database.
"""

from __future__ import annotations

from functools import cached_property
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

REPO_ROOT = Path(__file__).resolve().parent.parent


def native_foundry_binary(tool: str) -> Path:
    """npm's Foundry packages wrap a native binary in a Node launcher; run the binary itself,
    so that stopping the process stops the node and nothing is left orphaned."""
    import platform
    import sys

    arch = {"x86_64": "amd64", "amd64": "amd64", "aarch64": "arm64", "arm64": "arm64"}.get(platform.machine().lower())
    system = {"linux": "linux", "darwin": "darwin"}.get(sys.platform, sys.platform)
    native = REPO_ROOT / "node_modules" / "@foundry-rs" / f"{tool}-{system}-{arch}" / "bin" / tool
    return native if native.exists() else REPO_ROOT / "node_modules" / ".bin" / tool


def redact_url(url: str | None) -> str | None:
    """A URL fit for logs and responses: no user, password, path token or query."""
    if not url:
        return url
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    host = parts.hostname or ""
    return f"{parts.scheme}://{host}{':' + str(parts.port) if parts.port else ''}"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="REELLEDGER_", extra="ignore")

    data_dir: Path = Field(
        default=REPO_ROOT / "data",
        description="Where SQLite, the Anvil state and key files live; the repository's data directory when unset.",
    )
    database_url: str | None = Field(
        default=None, description="SQLAlchemy URL; SQLite in data_dir when unset. DATABASE_URL is read too."
    )
    rpc_url: str | None = Field(
        default=None, description="An EVM JSON-RPC endpoint; when unset ReelLedger runs its own Anvil node."
    )
    anvil_bin: Path = Field(default_factory=lambda: native_foundry_binary("anvil"))
    anvil_port: int = 8545
    anvil_chain_id: int = 31337
    anvil_state_interval: int = Field(default=1, description="Seconds between Anvil state dumps to disk.")
    anvil_state_copy_interval: float = Field(
        default=30.0,
        gt=0,
        description="Seconds between copies of Anvil's state file known to be whole "
        "(a hard kill can cut the file short).",
    )
    confirmations: int = Field(
        default=0,
        ge=0,
        description="Blocks on top of a receipt before a write counts as final: the depth of reorg the outbox "
        "survives (a dropped write is sent again). 0 suits a development chain only: a reorg is then not watched.",
    )
    fee_bump_after: float = Field(
        default=60.0,
        ge=0,
        description="Seconds a sent write may stay unmined while the chain asks more than it offers before it is "
        "replaced by the same nonce at a price outbidding it by at least 12.5% (each replacement waits as long).",
    )
    master_key: str | None = Field(
        default=None,
        repr=False,
        description="Base64 AES-256 key that encrypts private keys at rest; a 0600 file in data_dir when unset.",
    )
    signer_key: str | None = Field(
        default=None,
        repr=False,
        description="Hex private key of the service's signer on a remote chain; generated when unset.",
    )
    funding_key: str | None = Field(
        default=None,
        repr=False,
        description="Hex private key that pays the gas of every other account the service signs for (custodial "
        "accounts, and the signer when this is another key); the signer's own key when unset.",
    )
    gas_floor_wei: int = Field(
        default=10**16,
        ge=0,
        description="Wei a service-held account keeps after a transaction's maximum cost; below it the funding key "
        "tops it up (through the outbox) before the transaction is sent.",
    )
    gas_topup_wei: int = Field(default=10**17, ge=0, description="The least wei one top-up sends.")
    gas_topup_wait: float = Field(
        default=60.0,
        gt=0,
        description="Seconds a write waits for its account's top-up to be mined before it waits in the outbox instead.",
    )
    funding_warn_wei: int = Field(
        default=10**18, ge=0, description="/health warns when the funding key holds less than this many wei."
    )
    reconcile_interval: float = Field(default=2.0, description="Seconds between outbox reconciler passes.")
    write_wait: float = Field(
        default=5.0, description="Seconds a request waits for its chain write before answering pending."
    )
    settlement_currency: str = Field(default="CNY", description="The ISO 4217 currency this ledger settles in.")
    settlement_token: str | None = Field(
        default=None,
        description="ERC-20 paid out for settlement_currency, with its minor-unit decimals; a test stablecoin is "
        "deployed when unset.",
    )
    dispute_window: int = Field(
        default=60, description="Seconds between a period's commitment and its finalisation (days in production)."
    )
    arbiter: str | None = Field(
        default=None,
        description="Address that decides settlement disputes (a multisig, rights society or auditor); the service "
        "signer when unset, which should then hand the seat over on chain.",
    )
    decision_window: int = Field(
        default=120,
        ge=0,
        description="Seconds the arbiter has to decide a dispute before the default applies (30 days in production).",
    )
    dispute_default: Literal["upheld", "rejected"] = Field(
        default="rejected", description="The outcome of a dispute whose decision deadline passes undecided."
    )
    dispute_bond: int = Field(
        default=0,
        ge=0,
        description="Bond a payee posts with each dispute, in minor units of the settlement token (0: none); returned "
        "when upheld.",
    )
    bond_sink: str | None = Field(
        default=None, description="Address that receives the bonds of rejected disputes; the service signer when unset."
    )
    parse_workers: int = Field(default=2, ge=1, description="Processes that parse and hash NDJSON report rows.")
    max_upload_bytes: int = Field(
        default=256 * 2**30, ge=1, description="Largest file a work registration or a distribution may upload."
    )
    max_detect_bytes: int = Field(default=16 * 2**30, ge=1, description="Largest copy POST /detect accepts.")
    takedown_webhook: str | None = Field(
        default=None, description="URL that drafted takedown notices are POSTed to; notices stay drafts when unset."
    )
    takedown_webhook_secret: str | None = Field(
        default=None, repr=False, description="Signs each notice POST (X-ReelLedger-Signature: sha256=HMAC)."
    )
    takedown_max_attempts: int = Field(
        default=8, ge=1, description="Delivery attempts before a notice counts as failed."
    )
    public_base_url: str | None = Field(
        default=None,
        description="The address the public reaches this service at, for the counter-notice link each sent notice "
        "carries; http://{host}:{port} when unset.",
    )
    counter_notice_wait_days: int = Field(
        default=10,
        ge=1,
        le=60,
        description="Business days (Monday to Friday) after a counter-notice before its case is due for "
        "restoration, unless the rights holder marks a filed court action (DMCA 512(g): 10 to 14).",
    )
    counter_notice_link_days: int = Field(
        default=365, ge=1, description="Days a notice's counter-notice link stays open after the case is opened."
    )
    redis_url: str = Field(
        default="redis://127.0.0.1:6379/0",
        description="The crawl queue's Redis, where the console reads crawl jobs' progress (and media jobs are "
        "queued when media_jobs is queue).",
    )
    media_jobs: Literal["inline", "queue"] = Field(
        default="inline",
        description="Where heavy media work (hashing masters, marking copies) runs: inline, on the service's own "
        "media thread; queue, on `reelledger media worker` processes over the Redis queue at redis_url.",
    )
    media_job_lease: float = Field(
        default=30.0,
        gt=0,
        description="Seconds a media job's runner holds its step without a word; a runner silent longer is taken "
        "to be dead and its step is taken over.",
    )
    media_poll: float = Field(
        default=1.0, gt=0, description="Seconds between the service's looks for media jobs to finish or take up."
    )
    public_rpc_url: str | None = Field(
        default=None,
        description="The JSON-RPC URL the web console gives browsers to verify statements with; the managed "
        "Anvil node's when unset (a remote rpc_url, which may hold credentials, is never handed out).",
    )
    idempotency_keep: float = Field(
        default=86_400,
        gt=0,
        description="Seconds an Idempotency-Key given to a route whose domain keeps no key of its own, and the answer "
        "it names, are kept; after that the key is free again.",
    )
    idempotency_takeover: float = Field(
        default=300,
        gt=0,
        description="Seconds after which a retry takes over an Idempotency-Key whose request never finished (its "
        "process stopped); a request still running that long is run a second time.",
    )
    host: str = "127.0.0.1"
    port: int = 8000
    secure_cookies: bool = Field(
        default=False,
        description="Mark the console's cookies Secure (sent over HTTPS only): set it when browsers reach the "
        "service through a TLS-terminating proxy, where the service itself sees plain HTTP.",
    )
    console_origin: str | None = Field(
        default=None,
        description="Where browsers open the console (scheme://host:port); the managed Anvil node answers web pages "
        "from this origin only. Default: http://127.0.0.1:<port>.",
    )
    log_format: Literal["text", "json"] = Field(
        default="text",
        description="`json` writes each log line as one JSON object (time, level, logger, message, request_id, "
        "exception); `text` plain lines.",
    )
    metrics_token: str | None = Field(
        default=None,
        repr=False,
        description="When set, GET /metrics answers only `Authorization: Bearer <this>`; unset, it is open like "
        "/health (scraped from the operator's own network).",
    )

    @field_validator("console_origin")
    @classmethod
    def _an_origin(cls, value: str | None) -> str | None:
        """scheme://host[:port] as a browser sends it in Origin: no path, no default port."""
        if value is None:
            return None
        from urllib.parse import urlsplit

        parts = urlsplit(value.strip())
        if parts.scheme not in ("http", "https") or not parts.hostname or parts.path not in ("", "/") or parts.query:
            raise ValueError(f"{value!r} is not an origin like http://127.0.0.1:8000")
        default = {"http": 80, "https": 443}[parts.scheme]
        host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
        return f"{parts.scheme}://{host}" + (f":{parts.port}" if parts.port not in (None, default) else "")

    @property
    def browser_origin(self) -> str:
        if self.console_origin:
            return self.console_origin
        host = "127.0.0.1" if self.host in ("0.0.0.0", "::") else self.host  # all interfaces: the machine's own
        return f"http://{f'[{host}]' if ':' in host else host}:{self.port}"

    @cached_property
    def resolved_database_url(self) -> str:
        import os

        url = self.database_url or os.environ.get("DATABASE_URL")
        if url:
            return url
        return f"sqlite:///{(self.data_dir / 'reelledger.db').resolve()}"

    @property
    def anvil_state_file(self) -> Path:
        return self.data_dir / "anvil-state.json"

    @property
    def managed_chain(self) -> bool:
        return self.rpc_url is None
