"""The curators' review queue in the admin: changelist, review page, decisions, admin home."""
import uuid

import pytest
from django.contrib.auth.models import User
from django.urls import reverse

from meetings import commands as meeting_commands
from meetings.models import Citation, Meeting
from tracker.eventstore.api import Context, load_stream
from tracker.moderation.commands import proposal_submit
from tracker.moderation.models import DistinctPair, Proposal
from tracker.moderation.selectors import pair_is_distinct

pytestmark = pytest.mark.django_db

TEXT = (
    "<p>SEOUL, Nov. 3 (Yonhap) -- Foreign Minister Cho Hyun met U.S. Secretary of State "
    "Marco Rubio on Monday.</p><script>alert('x')</script> They discussed tariffs."
)
SENTENCE_START = TEXT.index("Foreign")
SENTENCE_END = TEXT.index("</p>")


def _robot() -> User:
    return User.objects.get(username="robot")


def _robot_ctx() -> Context:
    return Context.for_user(_robot(), via="suggestion")


def _article(url: str = "https://news.example/2025/11/03/cho-rubio"):
    return meeting_commands.article_register(
        context=_robot_ctx(), url=url, title="Cho meets Rubio", publisher="Yonhap", text=TEXT
    )


def _proposal(*, confidence: float = 0.9, date: str = "2025-11-03", key: str = "0") -> Proposal:
    article = _article()
    meeting_id = str(uuid.uuid4())
    sentence = {"text": TEXT[SENTENCE_START:SENTENCE_END], "start": SENTENCE_START, "end": SENTENCE_END}
    sub = proposal_submit(
        user=_robot(),
        context=_robot_ctx(),
        kind="new_meeting",
        commands=[
            {"command": "meeting_record", "args": {
                "meeting_id": meeting_id, "title": "Cho–Rubio talks", "date": date,
                "participants": [{"name": "Cho Hyun", "side": "KR"}, {"name": "Marco Rubio", "side": "US"}],
            }},
            {"command": "meeting_cite_article", "args": {
                "meeting_id": meeting_id, "article_id": str(article.pk), "evidence": [sentence],
            }},
        ],
        evidence={"article_id": str(article.pk), "sentences": [sentence]},
        confidence=confidence,
        dedupe_key=f"article:{article.pk}:meeting:{key}",
        summary=f"Cho Hyun met Marco Rubio ({date})",
    )
    return Proposal.objects.get(pk=sub.proposal_id)


def _review_url(p: Proposal) -> str:
    return reverse("admin:moderation_proposal_change", args=[p.pk])


def _accept_data(p: Proposal, **fields) -> dict:
    data = {"expected_version": str(p.version), "reason": "checked", "_accept": "Accept"}
    data["arg-0-title"] = "Cho–Rubio talks"
    data["arg-0-date"] = "2025-11-03"
    data["arg-0-participants"] = (
        '[{"name": "Cho Hyun", "side": "KR"}, {"name": "Marco Rubio", "side": "US"}]'
    )
    data["arg-1-evidence"] = (
        f'[{{"text": "{TEXT[SENTENCE_START:SENTENCE_END]}", "start": {SENTENCE_START}, "end": {SENTENCE_END}}}]'
    )
    return {**data, **fields}


def test_queue_pages_render_and_are_sorted_by_confidence(curator_client):
    # given three proposals of different confidence
    low, high = _proposal(confidence=0.4, key="a"), _proposal(confidence=0.95, key="b")
    mid = _proposal(confidence=0.7, key="c")
    # when the curator opens the queue, a filtered queue, the review page and the history
    response = curator_client.get(reverse("admin:moderation_proposal_changelist"))
    filtered = curator_client.get(
        reverse("admin:moderation_proposal_changelist"),
        {"kind__exact": "new_meeting", "status__exact": "pending", "confidence": "high", "age": "7d",
         "article": str(high.article_id)},
    )
    review = curator_client.get(_review_url(high))
    history = curator_client.get(reverse("admin:moderation_proposal_history", args=[high.pk]))
    # then each renders; the queue is most confident first; filters narrow it
    assert response.status_code == filtered.status_code == review.status_code == history.status_code == 200
    assert [p.pk for p in response.context["cl"].result_list] == [high.pk, mid.pk, low.pk]
    assert [p.pk for p in filtered.context["cl"].result_list] == [high.pk]


def test_review_page_escapes_the_article_and_highlights_the_evidence(curator_client):
    # given a proposal whose article contains HTML and a script
    p = _proposal()
    # when the curator opens the review page
    html = curator_client.get(_review_url(p)).content.decode()
    # then the markup is shown as text, never rendered, and the evidence is marked by its offsets
    assert "<script>alert" not in html
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in html
    assert "<mark>Foreign Minister Cho Hyun met U.S. Secretary of State Marco Rubio on Monday.</mark>" in html


def test_accept_with_an_edited_date_records_the_meeting_with_its_citation(curator_client, curator):
    # given a pending robot proposal
    p = _proposal()
    # when the curator changes the date on the review page and accepts
    response = curator_client.post(_review_url(p), _accept_data(p, **{"arg-0-date": "2025-11-02"}))
    # then the edit and the acceptance are events, the meeting exists with that date and the citation
    assert response.status_code == 302
    p.refresh_from_db()
    assert p.status == "accepted" and p.reviewer_name == curator.username
    assert [e.type for e in load_stream(p.pk)] == ["ChangeProposed", "ProposalEdited", "ProposalAccepted"]
    meeting = Meeting.objects.get(pk=p.commands[0]["target_stream_id"])
    assert meeting.date == "2025-11-02"
    assert Citation.objects.filter(meeting=meeting, article_id=p.article_id).exists()
    assert response["Location"] == reverse("admin:meetings_meeting_change", args=[meeting.pk])


def test_accept_against_a_stale_proposal_version_shows_the_conflict_and_keeps_input(curator_client, curator):
    # given a proposal someone edited after the curator opened it
    p = _proposal()
    opened = p.version
    from tracker.moderation.commands import proposal_edit

    other = User.objects.create_user("otto", password="pw", is_staff=True)
    other.groups.add(*curator.groups.all())
    proposal_edit(proposal_id=p.pk, user=other, context=Context.for_user(other, via="admin"),
                  expected_version=opened, args={0: {"title": "Edited by Otto"}})
    # when the curator accepts with their own edit made against the old version
    response = curator_client.post(
        _review_url(p), _accept_data(p, expected_version=str(opened), **{"arg-0-date": "2025-11-01"})
    )
    # then nothing is applied, the conflict names who changed it, and the typed date is kept
    assert response.status_code == 200
    assert any("changed by otto since you opened it" in e for e in response.context["errors"])
    assert 'value="2025-11-01"' in response.content.decode()
    assert not Meeting.objects.filter(pk=p.commands[0]["target_stream_id"]).exists()
    assert [e.type for e in load_stream(p.pk)] == ["ChangeProposed", "ProposalEdited"]


def test_bulk_reject_asks_for_one_reason_then_rejects_all(curator_client):
    # given two pending proposals
    a, b = _proposal(key="a"), _proposal(key="b")
    changelist = reverse("admin:moderation_proposal_changelist")
    selected = [str(a.pk), str(b.pk)]
    # when the curator picks "reject", an intermediate page asks for the reason
    page = curator_client.post(changelist, {"action": "reject_selected", "_selected_action": selected})
    assert page.status_code == 200 and b"Reason" in page.content
    curator_client.post(changelist, {"action": "reject_selected", "_selected_action": selected,
                                     "confirm": "yes", "reason": "not a meeting, a press release"})
    # then both are rejected with that reason
    assert set(Proposal.objects.filter(pk__in=selected).values_list("status", "reason")) == {
        ("rejected", "not a meeting, a press release")
    }


def test_bulk_accept_applies_each_proposal(curator_client):
    # given two pending proposals for different dates
    a, b = _proposal(key="a", date="2025-11-03"), _proposal(key="b", date="2025-12-03")
    # when the curator bulk-accepts them
    curator_client.post(reverse("admin:moderation_proposal_changelist"),
                        {"action": "accept_selected", "_selected_action": [str(a.pk), str(b.pk)]})
    # then both meetings exist
    assert Proposal.objects.filter(pk__in=[a.pk, b.pk], status="accepted").count() == 2
    assert Meeting.objects.filter(pk__in=[a.commands[0]["target_stream_id"], b.commands[0]["target_stream_id"]]).count() == 2


def _existing_meeting(date: str = "2025-11-02") -> Meeting:
    return meeting_commands.meeting_record(
        participants=[{"name": "Cho Hyun", "side": "KR"}, {"name": "Marco Rubio", "side": "US"}],
        title="Cho and Rubio meet", date=date, context=Context.system(reason="fixture"),
    )


def test_review_page_lists_a_meeting_with_shared_participants_within_three_days(curator_client):
    # given an existing meeting a day earlier, and one two weeks away
    near, far = _existing_meeting("2025-11-02"), _existing_meeting("2025-11-17")
    p = _proposal(date="2025-11-03")
    # when the curator opens the review page
    response = curator_client.get(_review_url(p))
    # then only the near meeting is offered as a possible duplicate
    assert [c["id"] for c in response.context["candidates"]] == [near.pk]
    assert far.pk not in [c["id"] for c in response.context["candidates"]]


def test_not_the_same_is_remembered_and_the_candidate_disappears(curator_client):
    # given a proposal with a candidate duplicate
    near = _existing_meeting()
    p = _proposal()
    # when the curator says it is not the same
    curator_client.post(_review_url(p), {"expected_version": p.version, "candidate": str(near.pk),
                                         "candidate_kind": "meeting", "_distinct": "Not the same"})
    # then the pair is remembered and no longer suggested
    subject = uuid.UUID(p.commands[0]["target_stream_id"])
    assert pair_is_distinct(subject, near.pk)
    assert DistinctPair.objects.filter(active=True).count() == 1
    assert curator_client.get(_review_url(p)).context["candidates"] == []


def test_this_is_the_same_turns_the_proposal_into_citing_the_existing_meeting(curator_client):
    # given a proposal duplicating an existing meeting
    near = _existing_meeting()
    p = _proposal()
    # when the curator says it is the same
    curator_client.post(_review_url(p), {"expected_version": p.version, "candidate": str(near.pk),
                                         "candidate_kind": "meeting", "_same": "This is the same"})
    # then the proposal now cites the article for the existing meeting instead of making a new one
    p.refresh_from_db()
    assert p.kind == "cite_article" and p.status == "pending"
    assert {c["target_stream_id"] for c in p.commands} == {str(near.pk)}
    # when the curator accepts it
    curator_client.post(_review_url(p), {"expected_version": p.version, "reason": "dup", "_accept": "Accept"})
    # then the article is cited on the existing meeting and no new meeting exists
    assert Citation.objects.filter(meeting=near, article_id=p.article_id).exists()
    assert Meeting.objects.count() == 1


def test_reject_on_the_review_page_requires_a_reason(curator_client):
    # given a pending proposal
    p = _proposal()
    # when the curator rejects without a reason, then with one
    first = curator_client.post(_review_url(p), {"expected_version": p.version, "reason": "", "_reject": "Reject"})
    p.refresh_from_db()
    assert first.status_code == 200 and p.status == "pending"
    curator_client.post(_review_url(p), {"expected_version": p.version, "reason": "duplicate", "_reject": "Reject"})
    # then it is rejected only the second time, with the reason kept
    p.refresh_from_db()
    assert (p.status, p.reason) == ("rejected", "duplicate")


def test_admin_home_shows_pending_by_kind_and_recent_changes(curator_client):
    # given two pending meeting proposals
    _proposal(key="a"), _proposal(key="b")
    # when the curator opens the admin home
    response = curator_client.get(reverse("admin:index"))
    # then the curators' block counts them by kind and lists recent events
    assert response.status_code == 200
    assert response.context["pending_by_kind"][0]["count"] == 2
    assert response.context["pending_by_kind"][0]["kind"] == "new meeting"
    assert any(e["type"] == "ChangeProposed" for e in response.context["recent_changes"])
    assert b'id="curator-home"' in response.content


def test_a_stale_proposal_is_shown_with_the_difference_then_accepted_against_the_current_record(curator_client):
    # given a robot proposal to edit a meeting, and a later change to that meeting
    meeting = _existing_meeting()
    sub = proposal_submit(
        user=_robot(), context=_robot_ctx(), kind="edit_meeting", confidence=0.8,
        commands=[{"command": "meeting_revise", "args": {"meeting_id": str(meeting.pk), "changes": {"kind": "talks"}}}],
        summary="Talks, not a call",
    )
    meeting_commands.meeting_revise(meeting_id=meeting.pk, changes={"location_name": "Seoul"},
                                    context=Context.system(reason="other edit"), expected_version=1)
    p = Proposal.objects.get(pk=sub.proposal_id)
    # when the curator accepts it
    curator_client.post(_review_url(p), {"expected_version": p.version, "reason": "", "_accept": "Accept"})
    # then nothing is applied; the review page shows it stale with what changed and who changed it
    p.refresh_from_db()
    assert p.status == "stale"
    page = curator_client.get(_review_url(p))
    assert page.context["staleness"][0]["changes"]["location_name"] == ["", "Seoul"]
    assert b"Accept against the current records" in page.content
    # when the curator accepts against the current record
    curator_client.post(_review_url(p), {"expected_version": p.version, "reason": "checked", "_rebase": "1"})
    # then it is applied on top of the other change
    p.refresh_from_db()
    meeting.refresh_from_db()
    assert p.status == "accepted"
    assert (meeting.kind, meeting.location_name) == ("talks", "Seoul")


def test_admin_home_counts_unresolved_ingestion_failures(curator_client):
    # given one unresolved and one resolved ingestion failure
    from django.utils import timezone

    from meetings.ingest.models import IngestionFailure

    now = timezone.now()
    IngestionFailure.objects.create(stage="fetch", kind="too_large", message="body over the cap",
                                    url="https://news.example/huge", first_failed_at=now, last_failed_at=now)
    IngestionFailure.objects.create(stage="fetch", kind="timeout", message="slow", url="https://news.example/slow",
                                    first_failed_at=now, last_failed_at=now, resolved_at=now)
    # when the curator opens the admin home
    response = curator_client.get(reverse("admin:index"))
    # then only the unresolved one is counted and listed
    assert response.context["failures"]["count"] == 1
    assert "news.example/huge" in response.content.decode()


def test_an_edit_meeting_proposal_shows_each_proposed_change_as_a_field(curator_client):
    # given a robot proposal to change a meeting's kind and place
    meeting = _existing_meeting()
    sub = proposal_submit(
        user=_robot(), context=_robot_ctx(), kind="edit_meeting", confidence=0.8,
        commands=[{"command": "meeting_revise", "args": {
            "meeting_id": str(meeting.pk), "changes": {"kind": "talks", "location_name": "Washington"}}}],
        summary="Talks in Washington",
    )
    p = Proposal.objects.get(pk=sub.proposal_id)
    page = curator_client.get(_review_url(p))
    assert 'name="arg-0-changes.location_name" value="Washington"' in page.content.decode()
    # when the curator corrects the place and accepts
    curator_client.post(_review_url(p), {
        "expected_version": p.version, "reason": "it was in New York", "_accept": "Accept",
        "arg-0-changes.kind": "talks", "arg-0-changes.location_name": "New York",
    })
    # then the corrected change is applied, the other one kept
    meeting.refresh_from_db()
    assert (meeting.kind, meeting.location_name) == ("talks", "New York")
