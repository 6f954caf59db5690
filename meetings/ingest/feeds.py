"""RSS/Atom parsing with feedparser, keeping each entry's raw timestamp and its UTC offset."""
from __future__ import annotations

import dataclasses
import datetime as dt
import email.utils

import feedparser
from dateutil import parser as dateutil_parser


class FeedError(ValueError):
    """The feed could not be parsed into entries."""


@dataclasses.dataclass
class FeedEntry:
    guid: str
    url: str
    title: str
    summary: str
    author: str
    published: dt.datetime | None  # aware, in the publisher's own offset when it gave one


def parse_timestamp(raw: str | None) -> dt.datetime | None:
    """Parse an RFC 822 or ISO 8601 timestamp, keeping its offset (feedparser's parsed field is UTC)."""
    if not raw:
        return None
    try:
        return email.utils.parsedate_to_datetime(raw)
    except (TypeError, ValueError, IndexError):
        pass
    try:
        value = dateutil_parser.parse(raw)
    except (ValueError, OverflowError):
        return None
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def parse_feed(body: bytes, *, url: str = "") -> list[FeedEntry]:
    """Entries of an RSS or Atom document; raises FeedError if it is not a usable feed."""
    parsed = feedparser.parse(body, sanitize_html=True, resolve_relative_uris=True)
    entries = []
    for item in parsed.entries:
        link = item.get("link") or ""
        guid = item.get("id") or link or item.get("title", "")
        if not (guid and link):
            continue
        entries.append(
            FeedEntry(
                guid=guid,
                url=link,
                title=item.get("title", ""),
                summary=item.get("summary", ""),
                author=item.get("author", ""),
                published=parse_timestamp(item.get("published") or item.get("updated")),
            )
        )
    if parsed.bozo and not entries:
        raise FeedError(f"not a valid RSS/Atom feed: {parsed.get('bozo_exception')}")
    return entries
