"""Which of a platform's rows a licence covers: the work, the territory, the streaming right
and the day must all fall inside a licence (or sub-licence) the platform holds and nobody
revoked, up the chain of grants. Rows outside are held, not settled."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from sqlmodel import Session, select

from ledger.models import ChainOp, LicenceRecord, OpStatus
from ledger.reports.columns import Ints, Rows

DAY = 86_400
REPORTED_RIGHT = "streaming"


@dataclass(frozen=True)
class _Window:
    territories: frozenset[str]
    start: int  # unix seconds
    end: int

    def covers(self, territory: str, day: int) -> bool:
        return territory in self.territories and self.start <= day * DAY < self.end


class Coverage:
    """The platform's licences, loaded once per report and asked once per row."""

    def __init__(self, db: Session, platform_id: int) -> None:
        records = {r.id: r for r in db.exec(select(LicenceRecord)).all()}
        confirmed = (
            set(db.exec(select(ChainOp.id).where(ChainOp.status == OpStatus.confirmed)).all()) if records else set()
        )

        def valid(record: LicenceRecord | None) -> bool:
            while record is not None:
                if record.op_id not in confirmed or (record.revoke_op_id in confirmed):
                    return False
                record = records.get(record.parent_pk) if record.parent_pk else None
            return True

        self._windows: dict[int, list[_Window]] = defaultdict(list)
        for record in records.values():
            if record.licensee_id == platform_id and REPORTED_RIGHT in record.rights and valid(record):
                self._windows[record.work_pk].append(_Window(frozenset(record.territories), record.start, record.end))

        self._answers: dict[tuple[int, str, int], bool] = {}  # rows repeat (work, territory, day) a lot

    def covers(self, work_pk: int, territory: str, day: int) -> bool:
        key = (work_pk, territory, day)
        answer = self._answers.get(key)
        if answer is None:
            answer = any(w.covers(territory, day) for w in self._windows.get(work_pk, ()))
            if len(self._answers) < 1_000_000:
                self._answers[key] = answer
        return answer

    def held(self, rows: Rows, work_pk: Ints) -> npt.NDArray[np.bool_]:
        """Which of `rows` (of works `work_pk`) no licence covers: asked once per distinct
        (work, territory, day) of the rows."""
        if not len(rows):
            return np.zeros(0, dtype=np.bool_)
        keys = np.stack((work_pk, rows.territory, rows.day), axis=1)
        distinct, each = np.unique(keys, axis=0, return_inverse=True)
        covered = np.array(
            [self.covers(work, rows.territories[territory], day) for work, territory, day in distinct.tolist()],
            dtype=np.bool_,
        )
        held: npt.NDArray[np.bool_] = ~covered[each.reshape(-1)]
        return held
