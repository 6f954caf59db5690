"""Bulk import of meetings: `meeting_record_many`, `meetings.importing` and `import_meetings`."""
from __future__ import annotations

import csv
import json
import uuid

import pytest
from django.core.management import CommandError as ManagementCommandError
from django.core.management import call_command

from meetings import commands
from meetings.models import Citation, Meeting, Participation
from people import commands as people_commands
from tests.meetings.conftest import person_version
from tracker.eventstore import rebuild
from tracker.eventstore.api import CommandError, Context, history
from tracker.eventstore.models import Event, EventLink, StreamState
from tracker.eventstore.store import COPY_STREAMS

pytestmark = pytest.mark.django_db

EVIDENCE = [{"text": "Cho met Rubio on Thursday.", "start": 0, "end": 26}]


@pytest.fixture
def article(ctx: Context) -> uuid.UUID:
    return commands.article_register(url="https://example.org/talks", title="Talks", context=ctx).id


@pytest.fixture
def park(ctx: Context) -> uuid.UUID:
    """A person known by name only to the import (raw name "Park Yoon-joo" resolves to her)."""
    return people_commands.person_register(name="Park Yoon-joo", country="KR", context=ctx)


def _item(cho, rubio, article, **fields) -> dict:
    """One meeting as `meeting_record_many` takes it: two known persons, a name that resolves
    to a person, a name that does not, and one citation."""
    return {
        "title": "Cho–Rubio talks",
        "date": "2025-07-31",
        "location_country": "us",
        "kind": "talks",
        "topics": ["alliance"],
        "participants": [
            {"person_id": str(cho), "side": "KR"},
            {"person_id": rubio, "side": "US", "is_host": True},
            {"name": "Park Yoon-joo", "side": "KR"},
            {"name": "An Unknown Aide"},
        ],
        "citations": [{"article_id": str(article), "evidence": EVIDENCE}],
        **fields,
    }


def _record_one_by_one(ctx, item) -> uuid.UUID:
    """What a curator does without the import: meeting_record, then meeting_cite_article."""
    fields = {k: v for k, v in item.items() if k != "citations"}
    meeting = commands.meeting_record(context=ctx, **fields)
    for citation in item["citations"]:
        commands.meeting_cite_article(
            meeting_id=meeting.id, article_id=citation["article_id"], evidence=citation["evidence"],
            context=ctx, expected_version=meeting.version,
        )
    return meeting.id


def _ids_to(mapping: dict[str, str], value):
    """`value` with every id in `mapping` replaced, so two meetings can be compared."""
    text = json.dumps(value, default=str, sort_keys=True)
    for old, new in mapping.items():
        text = text.replace(old, new)
    return json.loads(text)


def _id_map(meeting_id: uuid.UUID) -> dict[str, str]:
    """The meeting's own ids (stream, participations, citations) -> stable names."""
    out = {str(meeting_id): "MEETING"}
    for p in Participation.objects.filter(meeting_id=meeting_id):
        out[str(p.id)] = f"PART:{p.name}"
    for c in Citation.objects.filter(meeting_id=meeting_id):
        out[str(c.id)] = f"CITE:{c.article_id}"
    return out


def _read_model(meeting_id: uuid.UUID) -> dict:
    meeting = Meeting.objects.filter(pk=meeting_id).values().get()
    for volatile in ("created_at", "updated_at"):  # the time each was recorded
        meeting.pop(volatile)
    rows = _ids_to(_id_map(meeting_id), {
        "meeting": meeting,
        "participations": list(Participation.objects.filter(meeting_id=meeting_id).values()),
        "citations": list(Citation.objects.filter(meeting_id=meeting_id).values()),
        "state": StreamState.objects.get(pk=meeting_id).state,
        "version": StreamState.objects.get(pk=meeting_id).version,
    })
    rows["participations"].sort(key=lambda p: p["id"])
    return rows


def _history(meeting_id: uuid.UUID) -> list:
    return _ids_to(_id_map(meeting_id), [
        (h.event.type, h.event.version, h.event.schema_version, h.event.data, sorted(map(str, h.event.related_ids)),
         h.changes, h.related)
        for h in history(meeting_id)
    ])


# --- the same as the single commands --------------------------------------------------------


@pytest.mark.parametrize("others", [0, COPY_STREAMS], ids=["few streams", "many streams (COPY)"])
def test_an_imported_meeting_is_the_one_the_single_commands_record(ctx, cho, rubio, park, article, others):
    # given: the meeting recorded by the single commands
    item = _item(cho, rubio, article)
    single = _record_one_by_one(ctx, item)
    # when: the same meeting is imported (with `others` more in the batch)
    batch = [item] + [_item(cho, rubio, article, title=f"Other talks {n}") for n in range(others)]
    imported = commands.meeting_record_many(meetings=batch, context=ctx)[0]
    # then: same read-model rows, same state, same history, same links
    assert _read_model(imported) == _read_model(single)
    assert _history(imported) == _history(single)
    part = Participation.objects.get(meeting_id=imported, name="Park Yoon-joo")
    assert part.person_id == park and part.recorded_person_id is None
    assert Participation.objects.get(meeting_id=imported, recorded_person_id=cho).tenure is not None
    for linked in (cho, rubio, article):
        mine = [h.event.type for h in history(linked) if h.event.stream_id == imported]
        theirs = [h.event.type for h in history(linked) if h.event.stream_id == single]
        assert mine == theirs != []
    assert rebuild.check()[0] == []


def test_an_import_is_checked_by_rebuild_and_follows_later_people_events(ctx, cho, rubio, park, article):
    # given: a person merged before the import, whose old id the file still uses
    duplicate = people_commands.person_register(name="Rubio, Marco", country="US", context=ctx)
    people_commands.person_merge(
        loser_id=duplicate, winner_id=rubio, loser_expected_version=person_version(duplicate),
        winner_expected_version=person_version(rubio), context=ctx,
    )
    items = [
        _item(cho, duplicate, article, date=f"2025-{1 + n % 12:02d}", meeting_id=str(uuid.uuid4()))
        for n in range(COPY_STREAMS + 3)
    ]
    ids = commands.meeting_record_many(meetings=items, context=ctx)
    assert Participation.objects.filter(meeting_id__in=ids, recorded_person_id=duplicate, person_id=rubio).count() == len(ids)
    assert rebuild.check()[0] == []
    # when: a later people event touches the imported participations
    people_commands.person_unmerge(
        loser_id=duplicate, loser_expected_version=person_version(duplicate),
        winner_expected_version=person_version(rubio), context=ctx,
    )
    # then: they follow it, and the log still rebuilds to the same tables
    assert Participation.objects.filter(meeting_id__in=ids, person_id=duplicate).count() == len(ids)
    assert rebuild.check()[0] == []


def test_positions_stay_gap_free_and_each_event_links_only_its_own_objects(ctx, cho, rubio, article):
    # given
    first = Event.objects.order_by("-position").values_list("position", flat=True).first()
    # when
    ids = commands.meeting_record_many(meetings=[_item(cho, rubio, article)] * COPY_STREAMS, context=ctx)
    # then
    events = list(Event.objects.filter(position__gt=first).order_by("position"))
    assert [e.position for e in events] == list(range(first + 1, first + 1 + 2 * len(ids)))
    assert {e.stream_id for e in events} == set(ids)
    for e in events:
        linked = set(EventLink.objects.filter(event=e).values_list("related_id", flat=True))
        assert linked == ({cho, rubio} if e.type == "MeetingRecorded" else {article})
        assert e.version == (1 if e.type == "MeetingRecorded" else 2)


# --- all or nothing -------------------------------------------------------------------------


def test_one_bad_meeting_stores_nothing_and_every_error_is_reported(ctx, cho, rubio, article):
    # given
    taken = _record_one_by_one(ctx, _item(cho, rubio, article))
    good = _item(cho, rubio, article)
    bad = [
        _item(cho, rubio, article, date="2025-02-30"),
        _item(cho, rubio, article, participants=[{"person_id": str(cho)}, {"person_id": str(uuid.uuid4())}]),
        _item(cho, rubio, article, citations=[{"article_id": str(uuid.uuid4())}]),
        _item(cho, rubio, article, citations=[{"article_id": str(article)}, {"article_id": str(article)}]),
        _item(cho, rubio, article, participants=[{"name": "Cho Hyun"}, {"name": "cho hyun"}]),
        _item(cho, rubio, article, meeting_id=str(taken)),
        _item(cho, rubio, article, citations=[{"article_id": str(article), "evidence": [{"text": "x"}]}]),
        "not a meeting",
    ]
    events = Event.objects.count()
    # when
    with pytest.raises(CommandError) as caught:
        commands.meeting_record_many(meetings=[good, *bad] * 3, context=ctx)
    # then
    errors = caught.value.errors
    assert "meetings[1].date" in errors
    assert "meetings[2].participants[1]" in errors
    assert "meetings[3].citations[0]" in errors
    assert "meetings[4].citations[1]" in errors
    assert errors["meetings[5].participants[1]"] == ["Listed twice."]
    assert "meetings[6].meeting_id" in errors
    assert "meetings[7].citations[0].evidence" in errors
    assert "meetings[8]" in errors
    assert not any(k.startswith(("meetings[0].", "meetings[9].")) for k in errors)
    assert Event.objects.count() == events
    assert Meeting.objects.count() == 1


def test_the_same_new_id_twice_in_a_batch_is_refused(ctx, cho, rubio, article):
    meeting_id = str(uuid.uuid4())
    with pytest.raises(CommandError) as caught:
        commands.meeting_record_many(
            meetings=[_item(cho, rubio, article, meeting_id=meeting_id)] * 2, context=ctx
        )
    assert list(caught.value.errors) == ["meetings[1].meeting_id"]
    assert not Meeting.objects.exists()


def test_validate_many_reports_without_storing(ctx, cho, rubio, article):
    assert commands.meeting_validate_many(meetings=[_item(cho, rubio, article)]) == {}
    assert commands.meeting_validate_many(meetings=[_item(cho, rubio, article, mode="fax")]) == {
        "meetings[0].mode": ["'fax' is not one of in_person, phone, video."]
    }
    assert not Meeting.objects.exists()


# --- files and the management command -------------------------------------------------------


def _jsonl(tmp_path, items) -> str:
    path = tmp_path / "meetings.jsonl"
    path.write_text("\n".join(json.dumps(i, default=str) for i in items) + "\n\n", encoding="utf-8")
    return str(path)


def test_import_meetings_from_jsonl_in_batches_and_resume(tmp_path, capsys, cho, rubio, article):
    # given: a file with ids, as an export or an earlier run would have them
    items = [_item(cho, rubio, article, title=f"Talks {n}", meeting_id=str(uuid.uuid4())) for n in range(7)]
    path = _jsonl(tmp_path, items)
    # when
    call_command("import_meetings", path, "--batch", "3")
    # then
    assert "recorded 7 meeting(s) in 3 batch(es)" in capsys.readouterr().out
    assert set(Meeting.objects.values_list("title", flat=True)) == {f"Talks {n}" for n in range(7)}
    event = Event.objects.filter(type="MeetingRecorded").first()
    assert event.metadata["via"] == "cli" and event.metadata["source"] == {"file": "meetings.jsonl"}
    # when: it is run again, the recorded rows are refused, or skipped with --skip-existing
    with pytest.raises(ManagementCommandError, match="7 error"):
        call_command("import_meetings", path)
    call_command("import_meetings", path, "--skip-existing")
    assert "recorded 0 meeting(s) in 0 batch(es), skipped 7 already recorded" in capsys.readouterr().out
    assert Meeting.objects.count() == 7
    assert rebuild.check()[0] == []


def test_import_meetings_names_the_lines_of_bad_rows_and_stores_nothing(tmp_path, capsys, cho, rubio, article):
    items = [_item(cho, rubio, article) for _ in range(5)]
    items[3]["date"] = "31/07/2025"
    path = _jsonl(tmp_path, items)
    with pytest.raises(ManagementCommandError, match="1 error"):
        call_command("import_meetings", path, "--batch", "2")
    assert "line 4: date:" in capsys.readouterr().err
    assert not Meeting.objects.exists()


def test_import_meetings_from_csv_and_check_only(tmp_path, capsys, cho, rubio, article):
    # given: JSON in the participants, citations and topics cells; an empty cell is "not given"
    path = tmp_path / "meetings.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["title", "date", "mode", "topics", "participants", "citations"])
        for n in range(3):
            item = _item(cho, rubio, article)
            writer.writerow([
                f"Call {n}\twith a tab", "2025-08", "phone" if n else "", json.dumps(["trade"]),
                json.dumps(item["participants"], default=str), json.dumps(item["citations"], default=str),
            ])
    # when: checked only
    call_command("import_meetings", str(path), "--check")
    assert "3 meeting(s), no errors" in capsys.readouterr().out
    assert not Meeting.objects.exists()
    # when: imported
    call_command("import_meetings", str(path))
    # then
    meetings = {m.title: m for m in Meeting.objects.all()}
    assert set(meetings) == {"Call 0\twith a tab", "Call 1\twith a tab", "Call 2\twith a tab"}
    assert meetings["Call 0\twith a tab"].mode == "in_person" and meetings["Call 1\twith a tab"].mode == "phone"
    assert meetings["Call 2\twith a tab"].date_precision == "month" and meetings["Call 2\twith a tab"].topics == ["trade"]
    assert Participation.objects.count() == 12 and Citation.objects.count() == 3


def test_import_meetings_refuses_unreadable_files(tmp_path):
    bad = tmp_path / "meetings.jsonl"
    bad.write_text('{"title": "ok"}\nnot json\n', encoding="utf-8")
    with pytest.raises(ManagementCommandError, match="line 2: not JSON"):
        call_command("import_meetings", str(bad))
    other = tmp_path / "meetings.xml"
    other.write_text("<meetings/>", encoding="utf-8")
    with pytest.raises(ManagementCommandError, match="expected a .jsonl or .csv"):
        call_command("import_meetings", str(other))


def test_an_id_repeated_in_another_batch_is_caught_before_anything_is_stored(tmp_path, capsys, cho, rubio, article):
    meeting_id = uuid.uuid4()
    items = [_item(cho, rubio, article) for _ in range(4)]
    items[0]["meeting_id"] = str(meeting_id)
    items[3]["meeting_id"] = str(meeting_id).upper()  # the same id, spelled otherwise
    with pytest.raises(ManagementCommandError, match="1 error"):
        call_command("import_meetings", _jsonl(tmp_path, items), "--batch", "2")
    assert "line 4: meeting_id: The same id as line 1." in capsys.readouterr().err
    assert not Meeting.objects.exists()
