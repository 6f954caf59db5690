"""Bulk import of meetings from JSON Lines or CSV files, through `meeting_record_many`.

One meeting per line (JSONL) or row (CSV), with the fields `meeting_record` takes plus
`citations`. The whole file is checked first and nothing is stored if any row is invalid;
then the meetings are recorded in batches, one transaction (one append, one lock) per batch,
so other writers wait for one batch at most, never for the whole file.
"""
from __future__ import annotations

import csv
import dataclasses
import json
import re
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

from tracker.eventstore.api import CommandError, Context

from .commands import meeting_record_many, meeting_validate_many
from .models import Meeting

BATCH = 500  # meetings per transaction: big enough to amortise a round trip, short locks
JSON_COLUMNS = ("participants", "citations", "topics")  # CSV cells holding JSON
_INDEX = re.compile(r"^meetings\[(\d+)\]\.?(.*)$")


class ImportFileError(ValueError):
    """A file that cannot be read as meetings (not an error of one meeting)."""


@dataclasses.dataclass
class ImportStats:
    recorded: int = 0
    skipped: int = 0  # rows whose meeting_id was already recorded (with skip_existing)
    batches: int = 0


@dataclasses.dataclass
class RowError:
    line: int
    field: str
    messages: list[str]

    def __str__(self) -> str:
        return f"line {self.line}: {self.field or 'meeting'}: {' '.join(self.messages)}"


def read_meetings(path: Path) -> list[tuple[int, dict]]:
    """(line number, meeting) of every row of a .jsonl or .csv file."""
    suffix = path.suffix.lower()
    try:
        with path.open(encoding="utf-8", newline="") as handle:
            if suffix in (".jsonl", ".ndjson"):
                return list(_read_jsonl(handle))
            if suffix == ".csv":
                return list(_read_csv(handle))
    except (OSError, UnicodeDecodeError) as exc:
        raise ImportFileError(f"{path}: cannot read: {exc}") from exc
    raise ImportFileError(f"{path}: expected a .jsonl or .csv file")


def _read_jsonl(handle: Any) -> Iterator[tuple[int, dict]]:
    for number, line in enumerate(handle, start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ImportFileError(f"line {number}: not JSON: {exc}") from exc
        if not isinstance(row, dict):
            raise ImportFileError(f"line {number}: expected a JSON object")
        yield number, row


def _read_csv(handle: Any) -> Iterator[tuple[int, dict]]:
    reader = csv.DictReader(handle)
    for row in reader:
        meeting: dict[str, Any] = {}
        for key, value in row.items():
            if key is None or value is None or value == "":
                continue  # an empty cell means "not given", as a missing JSON key does
            if key in JSON_COLUMNS:
                try:
                    value = json.loads(value)
                except json.JSONDecodeError as exc:
                    raise ImportFileError(f"line {reader.line_num}: column {key}: not JSON: {exc}") from exc
            meeting[key] = value
        yield reader.line_num, meeting


def _row_errors(errors: dict[str, list[str]], lines: Sequence[int]) -> list[RowError]:
    out = []
    for key, messages in errors.items():
        match = _INDEX.match(key)
        if match:
            out.append(RowError(lines[int(match[1])], match[2], messages))
    return sorted(out, key=lambda e: e.line)


def _batches(rows: Sequence[tuple[int, dict]], size: int) -> Iterator[Sequence[tuple[int, dict]]]:
    for start in range(0, len(rows), size):
        yield rows[start : start + size]


def _not_recorded(rows: Sequence[tuple[int, dict]]) -> list[tuple[int, dict]]:
    """The rows whose meeting_id (if any) is not on record yet; malformed ids are kept, so
    that validation reports them."""
    ids = {}
    for n, row in rows:
        if row.get("meeting_id"):
            try:
                ids[n] = uuid.UUID(str(row["meeting_id"]))
            except ValueError:
                continue
    if not ids:
        return list(rows)
    taken = set(Meeting.objects.filter(pk__in=set(ids.values())).values_list("pk", flat=True))
    return [(n, r) for n, r in rows if ids.get(n) not in taken]


def meetings_check(rows: Sequence[tuple[int, dict]], *, batch: int = BATCH, skip_existing: bool = False) -> list[RowError]:
    """Every error of every row (by line), checking in batches; stores nothing."""
    found: list[RowError] = []
    for chunk in _batches(rows, batch):
        chunk = _not_recorded(chunk) if skip_existing else chunk
        errors = meeting_validate_many(meetings=[r for _, r in chunk])
        found += _row_errors(errors, [n for n, _ in chunk])
    # Validation sees the ids repeated within a batch; these are the ones across batches.
    reported = {e.line for e in found if e.field == "meeting_id"}
    first: dict[Any, int] = {}
    for number, row in rows:
        key = _id_key(row.get("meeting_id"))
        if key is not None and first.setdefault(key, number) != number and number not in reported:
            found.append(RowError(number, "meeting_id", [f"The same id as line {first[key]}."]))
    return sorted(found, key=lambda e: e.line)


def _id_key(value: Any) -> Any:
    """What makes two spellings of an id the same id (None if there is no id)."""
    if not value:
        return None
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return str(value)


def meetings_import(
    rows: Sequence[tuple[int, dict]],
    *,
    context: Context,
    batch: int = BATCH,
    skip_existing: bool = False,
    progress: Callable[[Iterable, int], Iterable] | None = None,
) -> ImportStats:
    """Record the rows in batches of `batch` meetings, each batch all or nothing.

    A batch that fails (a row another writer made invalid since it was checked) raises
    CommandError naming its lines; the batches before it stay recorded, and with meeting
    ids in the file `skip_existing` lets a re-run carry on where it stopped.
    """
    stats = ImportStats()
    chunks: Iterable = _batches(rows, batch)
    if progress is not None:
        chunks = progress(chunks, -(-len(rows) // batch))  # (batches, how many)
    for chunk in chunks:
        todo = _not_recorded(chunk) if skip_existing else list(chunk)
        stats.skipped += len(chunk) - len(todo)
        if todo:
            try:
                meeting_record_many(meetings=[r for _, r in todo], context=context)
            except CommandError as exc:
                lines = [n for n, _ in todo]
                problems = _row_errors(exc.errors, lines) or [RowError(lines[0], "", [str(exc)])]
                raise CommandError(
                    f"stopped at the batch of lines {lines[0]}-{lines[-1]}: {problems[0]}",
                    {str(p.line): p.messages for p in problems},
                ) from exc
            stats.recorded += len(todo)
            stats.batches += 1
    return stats
