"""HTML to article text and metadata with trafilatura (no hand-written parsing)."""
from __future__ import annotations

import dataclasses

import trafilatura

# Shorter than a one-sentence brief: a navigation bar or an error page, not an article.
MIN_TEXT_CHARS = 80


@dataclasses.dataclass
class PageContent:
    text: str
    title: str = ""
    published: str | None = None  # YYYY-MM-DD as the page states it
    author: str = ""
    publisher: str = ""
    canonical_url: str = ""
    language: str = ""


class ExtractionEmpty(ValueError):
    """The page has no article text that could be extracted."""


def extract_page(html: str, *, url: str | None = None) -> PageContent:
    """Extract the main text and metadata of an HTML page."""
    doc = trafilatura.bare_extraction(
        html,
        url=url,
        with_metadata=True,
        include_comments=False,
        include_tables=False,
        favor_precision=True,
    )
    if doc is None or len((doc.text or "").strip()) < MIN_TEXT_CHARS:
        raise ExtractionEmpty(
            f"no article text could be extracted from the page (under {MIN_TEXT_CHARS} characters of text)"
        )
    return PageContent(
        text=doc.text.strip(),
        title=(doc.title or "").strip(),
        published=doc.date,
        author=(doc.author or "").strip(),
        publisher=(doc.sitename or "").strip(),
        canonical_url=(doc.url or url or "").strip(),
        language=(doc.language or "").strip(),
    )


def looks_like_html(text: str) -> bool:
    head = text[:2048].lstrip().lower()
    return head.startswith(("<!doctype html", "<html")) or "<body" in head or "<article" in head
