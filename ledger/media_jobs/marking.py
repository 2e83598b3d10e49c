"""Marking a distribution's copy: the media step embeds the distribution's payload in the
stored master (`ledger.distributions.copies.mark_copy`); the ledger step anchors the copy's
record (`anchor_copy`). The distribution itself shows the copy's progress too."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from ledger.media_jobs import records
from ledger.media_jobs.steps import MediaContext, Report
from ledger.models import MediaJob

if TYPE_CHECKING:
    from ledger.service import Ledger

KIND = "mark_copy"


def media_step(ctx: MediaContext, job: MediaJob, report: Report) -> dict[str, Any]:
    from ledger.distributions.copies import mark_copy

    assert job.distribution_id is not None  # every copy's job names its distribution
    holder = job.lease_holder or ""

    def holds() -> bool:
        return records.holds(ctx.engine, job.id, holder, ctx.lease_s)

    return mark_copy(ctx.engine, ctx.data_dir, ctx.master_key, job.distribution_id, report, holds)


def ledger_step(ledger: Ledger, job: MediaJob) -> dict[str, Any]:
    from ledger.distributions.copies import anchor_copy

    assert job.distribution_id is not None
    return anchor_copy(ledger, job.distribution_id, job.output or {})


def cleanup(data_dir: Path, job: MediaJob) -> None:
    """Nothing of the job's own: the master belongs to the distribution, which removes it."""
