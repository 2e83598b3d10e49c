"""The console's language: Chinese or English, chosen by ?lang=, then a cookie, then the browser.
Both the pages the server renders and the scripts read the same message catalogue."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

from fastapi import Request

LANGUAGES = ("zh", "en")
LANG_COOKIE = "reelledger_lang"
CATALOGUE = Path(__file__).parent / "static" / "messages.json"


@cache
def catalogue() -> dict[str, dict[str, str]]:
    messages: dict[str, dict[str, str]] = json.loads(CATALOGUE.read_text(encoding="utf-8"))
    return messages


def language_of(request: Request) -> str:
    for chosen in (request.query_params.get("lang"), request.cookies.get(LANG_COOKIE)):
        if chosen in LANGUAGES:
            return chosen
    accepted = request.headers.get("accept-language", "").lower()
    return "zh" if accepted.startswith("zh") else "en"


def messages(lang: str) -> dict[str, str]:
    return catalogue()[lang]
