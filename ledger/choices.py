"""Closed sets of values that commands take as options (an account's role, a work's kind),
free of the database layer: a client command then starts without loading SQLAlchemy. The
tables in `ledger.models` use the same enums."""

from __future__ import annotations

import enum


class Role(str, enum.Enum):
    rights_holder = "rights_holder"  # registers and manages own works, licences and splits
    platform = "platform"  # reports plays for works it is licensed for
    crawler = "crawler"  # submits candidate media and evidence
    auditor = "auditor"  # reads everything, writes nothing
    admin = "admin"  # manages accounts
    arbiter = "arbiter"  # decides payees' disputes of statement lines, once it holds the arbiter seat


class WorkKind(str, enum.Enum):
    film = "film"
    series = "series"
    episode = "episode"


class DerivativeKind(str, enum.Enum):
    """What a derivative work does with its parent; bit `i` of a licence's kinds mask on chain is
    the `i`-th member, in this order."""

    re_edit = "re_edit"  # 二创: short-video cut-downs and re-edits
    dub = "dub"
    subtitle = "subtitle"
    remake = "remake"
    trailer = "trailer"
    compilation = "compilation"
