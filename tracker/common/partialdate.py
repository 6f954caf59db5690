"""Partial dates `YYYY[-MM[-DD]]`: validated, compared as text, precision from length (as OCD does)."""
from __future__ import annotations

import calendar
import datetime as dt
import re

# ASCII digits only (\d would accept "２０２５"), and \Z, not $, which accepts a trailing newline.
PARTIAL_DATE_RE = re.compile(r"^\d{4}(-(0[1-9]|1[0-2])(-(0[1-9]|[12]\d|3[01]))?)?\Z", re.ASCII)
PRECISIONS = {4: "year", 7: "month", 10: "day"}


class InvalidPartialDate(ValueError):
    """Not a YYYY, YYYY-MM or YYYY-MM-DD date, or not a real calendar day."""


def validate(value: str) -> str:
    """Return the value if it is a valid partial date, else raise InvalidPartialDate."""
    if not isinstance(value, str) or not PARTIAL_DATE_RE.match(value):
        raise InvalidPartialDate(f"{value!r} is not a date of the form YYYY, YYYY-MM or YYYY-MM-DD")
    if value[:4] == "0000":
        raise InvalidPartialDate(f"{value!r}: there is no year 0")
    if value.startswith("0000"):
        raise InvalidPartialDate(f"{value!r}: there is no year 0000 (years run from 0001)")
    if len(value) == 10:
        try:
            dt.date.fromisoformat(value)
        except ValueError:
            raise InvalidPartialDate(f"{value!r} is not a real calendar day") from None
    return value


def precision(value: str | None) -> str | None:
    """'year', 'month' or 'day' for a partial date; None for None."""
    return PRECISIONS[len(validate(value))] if value else None


def first_day(value: str) -> dt.date:
    """Earliest calendar day a partial date can mean."""
    validate(value)
    year = int(value[:4])
    month = int(value[5:7]) if len(value) >= 7 else 1
    day = int(value[8:10]) if len(value) == 10 else 1
    return dt.date(year, month, day)


def last_day(value: str) -> dt.date:
    """Latest calendar day a partial date can mean."""
    validate(value)
    year = int(value[:4])
    if len(value) == 4:
        return dt.date(year, 12, 31)
    month = int(value[5:7])
    if len(value) == 7:
        return dt.date(year, month, calendar.monthrange(year, month)[1])
    return dt.date.fromisoformat(value)


def contains(period_start: str | None, period_end: str | None, on: str) -> bool:
    """Whether a period [start, end] (partial dates, open ends allowed) may include date `on`.

    Inclusive on both ends at the coarsest shared precision, so a tenure ending "2025-07"
    still covers "2025-07-15", and one starting "2025" covers "2025-01".
    """
    if period_start and last_day(on) < first_day(period_start):
        return False
    if period_end and first_day(on) > last_day(period_end):
        return False
    return True
