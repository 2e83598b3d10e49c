"""What a page points at: further pages, and media (images, videos, HLS playlists).

html.parser is forgiving enough for the broken markup of piracy sites and runs no script;
media a site only reveals by running JavaScript are out of reach here (a screenshot shows
them as the visitor saw them).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser

from ledger.crawl.urls import media_kind_by_extension, normalise


@dataclass
class PageLinks:
    pages: list[str] = field(default_factory=list)  # normalised, in document order, no repeats
    media: list[str] = field(default_factory=list)


def srcset_urls(srcset: str) -> list[str]:
    """The URLs of a srcset ("a.jpg 1x, b.jpg 2x"), without their descriptors."""
    return [candidate.split()[0] for candidate in srcset.split(",") if candidate.split()]


class _Extractor(HTMLParser):
    def __init__(self, base: str) -> None:
        super().__init__(convert_charrefs=True)
        self.base = base
        self.base_set = False
        self.raw_pages: list[str] = []
        self.raw_media: list[str] = []
        self.in_media = 0  # depth inside <video>/<audio>/<picture>

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v for k, v in attrs if v is not None}
        if tag == "base" and "href" in a and not self.base_set:
            self.base = normalise(a["href"], self.base) or self.base
            self.base_set = True
        elif tag in ("video", "audio", "picture"):
            self.in_media += 1
            if "src" in a:
                self.raw_media.append(a["src"])
        elif tag == "img":
            self.raw_media += [a["src"]] if "src" in a else []
            self.raw_media += srcset_urls(a.get("srcset", ""))
        elif tag == "source" and self.in_media:
            self.raw_media += [a["src"]] if "src" in a else []
            self.raw_media += srcset_urls(a.get("srcset", ""))
        elif tag in ("a", "area") and "href" in a:
            target = a["href"]
            (self.raw_media if media_kind_by_extension(normalise(target, self.base) or "") else self.raw_pages).append(
                target
            )
        elif tag in ("iframe", "frame") and "src" in a:
            self.raw_pages.append(a["src"])

    def handle_endtag(self, tag: str) -> None:
        if tag in ("video", "audio", "picture") and self.in_media:
            self.in_media -= 1

    def resolved(self, raw: list[str]) -> list[str]:
        out: dict[str, None] = {}
        for r in raw:
            url = normalise(r, self.base)
            if url:
                out.setdefault(url)
        return list(out)


def extract(html: str, page_url: str) -> PageLinks:
    """Page links and media URLs of `html` served at `page_url` (its <base href> honoured).
    A link to a file named like a medium is a medium; a URL found as both is a medium."""
    parser = _Extractor(page_url)
    parser.feed(html)
    parser.close()
    media = parser.resolved(parser.raw_media)
    known = set(media)
    return PageLinks(pages=[u for u in parser.resolved(parser.raw_pages) if u not in known], media=media)
