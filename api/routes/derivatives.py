from fastapi import APIRouter

from api import present, schemas
from api.deps import CurrentAccount, LedgerDep
from ledger import derivative_views

router = APIRouter(prefix="/works", tags=["derivatives"])


@router.get("/{work_id}/family")
def read_family(work_id: str, ledger: LedgerDep, account: CurrentAccount) -> schemas.WorkFamily:
    """The work's derivative family: the works it derives from up to their roots and the works
    derived from it, each edge with its kind, licence and upstream terms. Read by the owners of
    the works in the family, auditors and admins."""
    found = derivative_views.family(ledger, account, work_id)
    return schemas.WorkFamily(
        work=_work(found.work),
        parents=[_edge(e) for e in found.ancestors],
        children=[_edge(e) for e in found.descendants],
        truncated=found.truncated,
    )


def _work(w: derivative_views.FamilyWork) -> schemas.FamilyWork:
    return schemas.FamilyWork(work_id=w.work_id, title=w.title)


def _edge(e: derivative_views.FamilyEdge) -> schemas.FamilyEdge:
    return schemas.FamilyEdge(
        derivative=_work(e.derivative),
        parent=_work(e.parent),
        kind=e.kind,
        licence_id=e.licence_pk,
        chain_licence_id=e.chain_licence_id,
        share_bps=e.share_bps,
        min_per_valid_play_micro=e.min_per_valid_play_micro,
        currency=e.currency,
        position=e.position,
        depth=e.depth,
        chain=present.chain_status(e.op),
    )
