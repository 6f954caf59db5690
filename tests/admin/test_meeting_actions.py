"""Meeting actions in the admin: merge, un-merge, retract and restore, each through a command."""
import pytest
from django.urls import reverse

from meetings import commands
from meetings.models import Meeting
from tracker.eventstore.api import Context, load_stream

pytestmark = pytest.mark.django_db

SYSTEM = Context.system(reason="fixture")
CHANGELIST = "admin:meetings_meeting_changelist"


def _meeting(title: str, participants: list[str], date: str = "2025-07-11") -> Meeting:
    return commands.meeting_record(
        participants=[{"name": n} for n in participants], title=title, date=date, context=SYSTEM
    )


def test_merge_then_unmerge_meetings_through_actions(curator_client):
    # given the same meeting recorded twice, with one extra participant on the duplicate
    keep = _meeting("Cho–Rubio talks", ["Cho Hyun", "Marco Rubio"])
    dupe = _meeting("Cho meets Rubio", ["Cho Hyun", "Marco Rubio", "Kevin Kim"])
    selected = [str(keep.pk), str(dupe.pk)]
    url = reverse(CHANGELIST)
    # when the curator merges the duplicate into the kept one, with a reason
    page = curator_client.post(url, {"action": "merge", "_selected_action": selected})
    assert page.status_code == 200 and b"Keep this one" in page.content
    curator_client.post(url, {"action": "merge", "_selected_action": selected, "confirm": "yes",
                              "into": str(keep.pk), "reason": "same talks"})
    # then the duplicate redirects and the kept meeting gained the extra participant
    assert Meeting.objects.get(pk=dupe.pk).merged_into_id == keep.pk
    assert "Kevin Kim" in Meeting.objects.get(pk=keep.pk).participants.values_list("name", flat=True)
    assert load_stream(dupe.pk)[-1].metadata["reason"] == "same talks"
    # when the curator un-merges it
    curator_client.post(url, {"action": "unmerge", "_selected_action": [str(dupe.pk)], "confirm": "yes",
                              "reason": "two different days after all"})
    # then both stand alone again, each with its own participants
    assert Meeting.objects.get(pk=dupe.pk).merged_into_id is None
    assert "Kevin Kim" not in Meeting.objects.get(pk=keep.pk).participants.values_list("name", flat=True)


def test_retract_asks_for_a_reason_then_retracts_and_restore_brings_it_back(curator_client):
    # given a meeting
    meeting = _meeting("Rumoured talks", ["Cho Hyun", "Wang Yi"])
    url = reverse(CHANGELIST)
    # when the curator retracts it without a reason, they are asked for one, and nothing happens
    page = curator_client.post(url, {"action": "retract", "_selected_action": [str(meeting.pk)], "confirm": "yes"})
    assert page.status_code == 200 and not Meeting.objects.get(pk=meeting.pk).retracted
    # when they give a reason
    curator_client.post(url, {"action": "retract", "_selected_action": [str(meeting.pk)], "confirm": "yes",
                              "reason": "the report was denied"})
    # then the meeting is retracted (kept in the log) with that reason
    assert Meeting.objects.get(pk=meeting.pk).retracted
    assert load_stream(meeting.pk)[-1].type == "MeetingRetracted"
    # when they restore it
    curator_client.post(url, {"action": "restore", "_selected_action": [str(meeting.pk)], "confirm": "yes",
                              "reason": "confirmed after all"})
    assert not Meeting.objects.get(pk=meeting.pk).retracted


def test_an_impossible_status_change_is_reported_and_appends_nothing(curator_client):
    # given a held meeting
    meeting = _meeting("Held talks", ["Cho Hyun", "Wang Yi"])
    # when the curator tries to mark it planned
    response = curator_client.post(
        reverse(CHANGELIST),
        {"action": "change_status", "_selected_action": [str(meeting.pk)], "confirm": "yes",
         "status": "planned", "source": "note", "reason": "oops"},
        follow=True,
    )
    # then the command's refusal is shown and nothing is appended
    assert "cannot become planned" in response.content.decode()
    assert len(load_stream(meeting.pk)) == 1
