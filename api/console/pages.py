"""Which console pages exist and who may open them: the same roles the API lets read their data."""

from __future__ import annotations

from dataclasses import dataclass

from ledger.models import Role

EVERYONE = frozenset(Role)


@dataclass(frozen=True)
class Page:
    name: str
    roles: frozenset[Role]
    in_nav: bool = True


PAGES = {
    page.name: page
    for page in (
        Page("overview", EVERYONE),
        Page("works", frozenset({Role.rights_holder, Role.auditor, Role.admin})),
        Page("work", frozenset({Role.rights_holder, Role.auditor, Role.admin}), in_nav=False),
        Page("revenue", frozenset({Role.rights_holder, Role.auditor, Role.admin})),
        Page("statements", frozenset({Role.rights_holder, Role.platform, Role.auditor, Role.admin, Role.arbiter})),
        Page("reports", frozenset({Role.platform, Role.rights_holder, Role.auditor, Role.admin})),  # holders: held rows
        Page("periods", frozenset({Role.platform, Role.auditor, Role.admin, Role.arbiter})),
        Page("cases", frozenset({Role.rights_holder, Role.crawler, Role.auditor, Role.admin})),
        Page("crawls", frozenset({Role.crawler, Role.auditor, Role.admin})),
        Page("case", frozenset({Role.rights_holder, Role.crawler, Role.auditor, Role.admin}), in_nav=False),
    )
}


def nav_for(role: Role) -> list[str]:
    return [p.name for p in PAGES.values() if p.in_nav and role in p.roles]
