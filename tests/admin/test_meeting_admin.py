"""Editing meetings through the admin: commands, hidden versions, conflicts, history and revert."""
import pytest
from django.urls import reverse

from meetings import commands
from meetings.models import Meeting
from tracker.eventstore.api import Context, load_stream
from tracker.eventstore.models import Event

pytestmark = pytest.mark.django_db

SYSTEM = Context.system(reason="fixture")


def _meeting(**fields) -> Meeting:
    defaults = {"title": "Cho–Rubio talks", "date": "2025-07-11", "location_name": "Kuala Lumpur"}
    return commands.meeting_record(
        participants=[{"name": "Cho Hyun", "side": "KR"}, {"name": "Marco Rubio", "side": "US"}],
        context=SYSTEM,
        **{**defaults, **fields},
    )


def _form_data(meeting: Meeting, **overrides) -> dict:
    data = {
        "title": meeting.title,
        "summary": meeting.summary,
        "date": meeting.date,
        "end_date": meeting.end_date,
        "location_name": meeting.location_name,
        "location_country": meeting.location_country,
        "mode": meeting.mode,
        "kind": meeting.kind,
        "topics": ", ".join(meeting.topics),
        "occasion": meeting.occasion,
        "add_participant": "",
        "reason": "checked the ministry's readout",
        "expected_version": str(meeting.version),
        # read-only inlines still post their management forms
        "participants-TOTAL_FORMS": "0", "participants-INITIAL_FORMS": "0",
        "citations-TOTAL_FORMS": "0", "citations-INITIAL_FORMS": "0",
    }
    return {**data, **overrides}


def test_meeting_pages_render_for_a_curator(curator_client):
    # given a meeting
    meeting = _meeting()
    # when the curator opens its changelist, change form, history and the add form
    urls = [
        reverse("admin:meetings_meeting_changelist"),
        reverse("admin:meetings_meeting_change", args=[meeting.pk]),
        reverse("admin:meetings_meeting_history", args=[meeting.pk]),
        reverse("admin:meetings_meeting_add"),
    ]
    # then each renders
    for url in urls:
        assert curator_client.get(url).status_code == 200, url


def test_admin_edit_appends_an_event_through_the_command_with_via_admin(curator_client, curator):
    # given a meeting opened at its current version
    meeting = _meeting()
    url = reverse("admin:meetings_meeting_change", args=[meeting.pk])
    # when the curator corrects the date with a reason
    response = curator_client.post(url, _form_data(meeting, date="2025-07-10"))
    # then the change went through the command: a new event carries who, via and why
    assert response.status_code == 302, response.context["adminform"].form.errors
    last = load_stream(meeting.pk)[-1]
    assert last.type == "MeetingRevised"
    assert last.data["changes"] == {"date": "2025-07-10"}
    assert last.metadata["via"] == "admin"
    assert last.metadata["actor_name"] == curator.username
    assert last.metadata["reason"] == "checked the ministry's readout"
    assert Meeting.objects.get(pk=meeting.pk).date == "2025-07-10"


def test_admin_edit_requires_a_reason(curator_client):
    # given a meeting
    meeting = _meeting()
    before = Event.objects.count()
    # when the curator saves a change without a reason
    response = curator_client.post(
        reverse("admin:meetings_meeting_change", args=[meeting.pk]), _form_data(meeting, title="New", reason="")
    )
    # then the form asks for one and nothing is appended
    assert response.status_code == 200
    assert "reason" in response.context["adminform"].form.errors
    assert Event.objects.count() == before


def test_stale_hidden_version_shows_the_conflict_and_appends_nothing(curator_client):
    # given a meeting the curator opened at version 1, then someone else changed it
    meeting = _meeting()
    opened = meeting.version
    commands.meeting_revise(
        meeting_id=meeting.pk,
        changes={"location_name": "Seoul"},
        context=Context.system(reason="other edit", via="api"),
        expected_version=opened,
    )
    count = Event.objects.filter(stream_id=meeting.pk).count()
    # when the curator saves their edit made against the old version
    response = curator_client.post(
        reverse("admin:meetings_meeting_change", args=[meeting.pk]),
        _form_data(meeting, title="Talks in KL", expected_version=str(opened)),
    )
    # then the form shows who changed what, with both values, keeps the input, and appends nothing
    assert response.status_code == 200
    form = response.context["adminform"].form
    errors = " ".join(form.non_field_errors())
    assert "changed by system since you opened it" in errors
    assert "location_name: yours = Kuala Lumpur · current (theirs) = Seoul" in errors
    assert "title: yours = Talks in KL" in errors
    assert form["title"].value() == "Talks in KL"
    assert Event.objects.filter(stream_id=meeting.pk).count() == count
    # and the re-rendered form now carries the current version, so a second save is deliberate
    assert form["expected_version"].value() == str(opened + 1)


def test_command_field_errors_land_on_form_fields(curator_client):
    # given a meeting
    meeting = _meeting()
    # when the curator types an impossible date
    response = curator_client.post(
        reverse("admin:meetings_meeting_change", args=[meeting.pk]), _form_data(meeting, date="2025-13-40")
    )
    # then the command's message is shown on the date field
    assert response.status_code == 200
    assert response.context["adminform"].form.errors.get("date")


def test_history_page_shows_who_via_why_and_the_field_diff(curator_client):
    # given a meeting whose date was corrected through the admin
    meeting = _meeting()
    curator_client.post(
        reverse("admin:meetings_meeting_change", args=[meeting.pk]), _form_data(meeting, date="2025-07-10")
    )
    # when the curator opens its history
    response = curator_client.get(reverse("admin:meetings_meeting_history", args=[meeting.pk]))
    # then both events are listed, the second with its diff, author, channel and reason
    assert response.status_code == 200
    entries = response.context["entries"]
    assert [e["type"] for e in entries] == ["MeetingRecorded", "MeetingRevised"]
    revised = entries[1]
    assert ("date", "2025-07-11", "2025-07-10") in revised["changes"]
    assert revised["via"] == "admin" and revised["reason"] == "checked the ministry's readout"
    assert b"2025-07-11" in response.content and b"revert to here" in response.content


def test_history_view_as_of_renders_the_state_at_that_position(curator_client):
    # given a meeting whose title changed after it was recorded
    meeting = _meeting()
    first = load_stream(meeting.pk)[0].position
    commands.meeting_revise(
        meeting_id=meeting.pk, changes={"title": "Renamed"}, context=SYSTEM, expected_version=1
    )
    # when the curator views it as of the first event
    response = curator_client.get(
        reverse("admin:meetings_meeting_history", args=[meeting.pk]), {"as_of": first}
    )
    # then the old title is shown as the state then
    rows = dict(response.context["as_of"]["rows"])
    assert rows["title"] == "Cho–Rubio talks"
    assert response.context["as_of"]["version"] == 1


def test_revert_to_here_appends_a_compensating_event(curator_client):
    # given a meeting whose title was changed
    meeting = _meeting()
    commands.meeting_revise(
        meeting_id=meeting.pk, changes={"title": "Wrong title"}, context=SYSTEM, expected_version=1
    )
    url = reverse("admin:meetings_meeting_history", args=[meeting.pk])
    # when the curator reverts to version 1 with a reason
    response = curator_client.post(url, {"to_version": 1, "expected_version": 2, "reason": "vandalism"})
    # then a StateReverted event is appended (nothing deleted) and the title is back
    assert response.status_code == 302
    events = load_stream(meeting.pk)
    assert [e.type for e in events] == ["MeetingRecorded", "MeetingRevised", "StateReverted"]
    assert events[-1].data["fields"]["title"] == "Cho–Rubio talks"
    assert events[-1].metadata["via"] == "admin" and events[-1].metadata["reason"] == "vandalism"
    assert Meeting.objects.get(pk=meeting.pk).title == "Cho–Rubio talks"


def test_revert_without_a_reason_appends_nothing(curator_client):
    # given a changed meeting
    meeting = _meeting()
    commands.meeting_revise(meeting_id=meeting.pk, changes={"title": "X"}, context=SYSTEM, expected_version=1)
    # when the curator posts a revert without a reason
    curator_client.post(
        reverse("admin:meetings_meeting_history", args=[meeting.pk]),
        {"to_version": 1, "expected_version": 2, "reason": ""},
    )
    # then nothing is appended
    assert len(load_stream(meeting.pk)) == 2


def test_add_form_records_a_meeting_through_the_command(curator_client):
    # given the add form's data with two participants
    data = _form_data(Meeting(title="", version=0), title="Phone call", date="2025-08-01", mode="phone",
                      participants_text="Cho Hyun | KR\nWang Yi | CN", reason="", expected_version="")
    data["mode"] = "phone"
    # when the curator saves it
    response = curator_client.post(reverse("admin:meetings_meeting_add"), data)
    # then a MeetingRecorded event exists, via the admin, and the projected row is shown
    assert response.status_code == 302, response.context["adminform"].form.errors
    meeting = Meeting.objects.get(title="Phone call")
    recorded = load_stream(meeting.pk)[0]
    assert recorded.type == "MeetingRecorded" and recorded.metadata["via"] == "admin"
    assert sorted(p.name for p in meeting.participants.all()) == ["Cho Hyun", "Wang Yi"]


def test_status_action_moves_a_planned_meeting_to_held_with_its_source(curator_client):
    # given a planned meeting
    meeting = _meeting(status="planned")
    # when the curator runs the status action with a source and reason
    response = curator_client.post(
        reverse("admin:meetings_meeting_changelist"),
        {"action": "change_status", "_selected_action": [str(meeting.pk)], "confirm": "yes",
         "status": "held", "source": "https://example.org/readout", "reason": "readout published"},
    )
    # then the status change is an event with its source
    assert response.status_code == 302
    last = load_stream(meeting.pk)[-1]
    assert last.type == "MeetingStatusChanged" and last.data["source"] == "https://example.org/readout"
    assert Meeting.objects.get(pk=meeting.pk).status == "held"


def test_delete_is_disabled(curator_client):
    # given a meeting
    meeting = _meeting()
    # when the curator tries to delete it
    response = curator_client.post(reverse("admin:meetings_meeting_delete", args=[meeting.pk]), {"post": "yes"})
    # then it is refused and the meeting stays
    assert response.status_code == 403
    assert Meeting.objects.filter(pk=meeting.pk).exists()


def test_topics_are_typed_comma_separated_and_stored_as_a_list(curator_client):
    # given a meeting without topics
    meeting = _meeting()
    # when the curator types two topics
    curator_client.post(
        reverse("admin:meetings_meeting_change", args=[meeting.pk]), _form_data(meeting, topics="alliance, tariffs")
    )
    # then the meeting's topics are that list
    assert Meeting.objects.get(pk=meeting.pk).topics == ["alliance", "tariffs"]
    assert load_stream(meeting.pk)[-1].data["changes"] == {"topics": ["alliance", "tariffs"]}
