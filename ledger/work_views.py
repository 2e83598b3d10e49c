"""The public ids of works named by their row ids (a work's series, a licence's work), read in one
query for a whole page of answers: presenters are handed them and never query."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import Engine
from sqlmodel import col, select

from ledger.db import session
from ledger.models import Work


def work_ids(engine: Engine, pks: Iterable[int | None]) -> dict[int, str]:
    """Each work's id (`0x` and its SHA-256) by its row id; None among `pks` is skipped. Every row
    id given is one another row refers to: a missing one is a broken invariant."""
    wanted = {pk for pk in pks if pk is not None}
    if not wanted:
        return {}
    with session(engine) as db:
        found = dict(db.exec(select(Work.id, Work.work_id).where(col(Work.id).in_(wanted))).all())
    if missing := wanted - found.keys():
        raise RuntimeError(f"Work {sorted(missing)} missing")
    return found


def work_id(engine: Engine, pk: int) -> str:
    return work_ids(engine, [pk])[pk]
