import pytest

from meetings.commands import meeting_record
from meetings.ingest.services import article_ingest_text
from meetings.ingest.suggestions import article_suggest, mention_key, proposed_meeting_id
from meetings.models import Meeting
from people.names import normalize_name
from tracker.eventstore.api import CommandError, Context
from tracker.moderation.commands import pair_mark_distinct, proposal_accept, proposal_reject
from tracker.moderation.models import Proposal

pytestmark = pytest.mark.django_db

SYSTEM = Context.system(reason="test", via="cli")
HELD = (
    "SEOUL, Oct. 10 (Yonhap) -- First Vice Foreign Minister Park Yoon-joo held talks with "
    "Under Secretary of State for Political Affairs Allison Hooker in Seoul on Friday, the "
    "foreign ministry said. The two discussed the alliance and tariffs."
)
FOLLOW_UP = (
    "WASHINGTON, Oct. 11 -- U.S. Under Secretary of State Allison Hooker said Saturday that her "
    "talks with South Korea's First Vice Foreign Minister Park Yun-ju in Seoul on Friday were "
    "productive, according to a State Department readout. They also discussed shipbuilding."
)


def _ingest(text, published):
    return article_ingest_text(text=text, context=SYSTEM, published=published, suggest=False).article


def _accept_all(curator):
    ctx = Context.for_user(curator, via="admin", reason="looks right")
    for p in Proposal.objects.filter(status="pending"):
        try:
            outcome = proposal_accept(proposal_id=p.id, user=curator, context=ctx, expected_version=p.version)
        except CommandError as exc:
            pytest.fail(f"{p.kind} could not be applied: {exc.errors}")
        assert outcome.accepted, outcome.problems


def test_article_raises_a_new_meeting_proposal_with_evidence_once(officials):
    # given
    article = _ingest(HELD, "2025-10-10")
    # when
    outcomes = article_suggest(article_id=article.id)
    again = article_suggest(article_id=article.id)  # a retried task
    # then
    assert [o.action for o in outcomes] == ["new"]
    assert [o.meeting_id for o in again] == [o.meeting_id for o in outcomes]
    (proposal,) = Proposal.objects.all()
    assert proposal.kind == "new_meeting" and proposal.author_name == "robot"
    args = proposal.commands[0]["args"]
    assert {p["person_id"] for p in args["participants"]} == {str(officials["Park Yoon-joo"]), str(officials["Allison Hooker"])}
    assert args["date"] == "2025-10-10" and args["location_name"] == "Seoul"
    sentence = proposal.evidences.get().sentences[0]
    assert HELD[sentence["start"]:sentence["end"]] == sentence["text"]
    assert "held talks" in sentence["text"]


def test_mention_of_a_meeting_on_record_becomes_a_citation_proposal(officials, curator):
    first = _ingest(HELD, "2025-10-10")
    article_suggest(article_id=first.id)
    _accept_all(curator)
    (meeting,) = Meeting.objects.all()
    # when another article reports the same meeting (alias spelling, relative date)
    second = _ingest(FOLLOW_UP, "2025-10-11")
    (outcome,) = article_suggest(article_id=second.id)
    # then
    assert outcome.action == "cite" and outcome.meeting_id == meeting.id
    cite = Proposal.objects.get(status="pending")
    assert cite.kind == "cite_article"
    _accept_all(curator)
    assert Meeting.objects.count() == 1
    assert meeting.citations.count() == 2


def test_a_pending_proposal_collects_evidence_from_a_second_article(officials):
    article_suggest(article_id=_ingest(HELD, "2025-10-10").id)
    second = _ingest(FOLLOW_UP, "2025-10-11")
    (outcome,) = article_suggest(article_id=second.id)
    assert outcome.action == "attach"
    proposal = Proposal.objects.get()
    assert [e.article_id for e in proposal.evidences.order_by("index")][1] == second.id


def test_planned_meeting_on_record_is_proposed_as_held(officials, curator):
    meeting = meeting_record(
        participants=[{"person_id": str(officials["Cho Hyun"])}, {"person_id": str(officials["Marco Rubio"])}],
        date="2025-07", status="planned", context=SYSTEM,
    )
    text = ("WASHINGTON, July 31 (Yonhap) -- Foreign Minister Cho Hyun held talks with Secretary of "
            "State Marco Rubio in Washington on Thursday, discussing tariffs and the alliance.")
    (outcome,) = article_suggest(article_id=_ingest(text, "2025-08-01").id)
    assert outcome.action == "cite" and outcome.meeting_id == meeting.id
    proposal = Proposal.objects.get()
    assert [c["command"] for c in proposal.commands] == ["meeting_cite_article", "meeting_revise", "meeting_status_change"]
    _accept_all(curator)
    meeting.refresh_from_db()
    assert meeting.status == "held" and meeting.date == "2025-07-31"


def test_not_the_same_pair_is_never_proposed_again(officials, curator):
    meeting = meeting_record(
        participants=[{"person_id": str(officials["Park Yoon-joo"])}, {"person_id": str(officials["Allison Hooker"])}],
        date="2025-10-10", status="held", context=SYSTEM,
    )
    article = _ingest(HELD, "2025-10-10")
    (outcome,) = article_suggest(article_id=article.id)
    assert outcome.action == "cite"
    # a curator says the article's meeting is not the one on record, and rejects the citation
    ctx = Context.for_user(curator, via="admin", reason="different meeting")
    key = mention_key([normalize_name("Park Yoon-joo"), normalize_name("Allison Hooker")],
                      {"status": "held", "mode": "in_person", "date": "2025-10-10"})
    proposed_id = proposed_meeting_id(article.id, key)
    pair_mark_distinct(a_id=meeting.id, b_id=proposed_id, user=curator, context=ctx, kind="meeting")
    cite = Proposal.objects.get()
    proposal_reject(proposal_id=cite.id, user=curator, context=ctx, expected_version=cite.version, reason="different meeting")
    # when the article is analysed again
    (again,) = article_suggest(article_id=article.id)
    # then it is proposed as a new meeting, not as the distinct one
    assert again.action == "new"
    assert Proposal.objects.filter(kind="cite_article", status="pending").count() == 0


def test_rejected_proposal_is_not_raised_again_on_reingestion(officials, curator):
    article = _ingest(HELD, "2025-10-10")
    article_suggest(article_id=article.id)
    proposal = Proposal.objects.get()
    ctx = Context.for_user(curator, via="admin", reason="not a meeting")
    proposal_reject(proposal_id=proposal.id, user=curator, context=ctx, expected_version=proposal.version,
                    reason="not a meeting")
    again = _ingest(HELD, "2025-10-10")  # the same text comes in again
    assert again.id == article.id
    article_suggest(article_id=again.id)
    assert list(Proposal.objects.values_list("status", flat=True)) == ["rejected"]


def test_unknown_titled_official_becomes_a_new_person_proposal(officials):
    text = ("SEOUL, Oct. 20 (Yonhap) -- Foreign Minister Cho Hyun met acting U.S. Ambassador "
            "Kevin Kim in Seoul on Monday to discuss the upcoming summit.")
    article_suggest(article_id=_ingest(text, "2025-10-20").id)
    person = Proposal.objects.get(kind="new_person")
    assert person.commands[0]["args"]["name"] == "Kevin Kim"
    meeting = Proposal.objects.get(kind="new_meeting")
    names = {p["name"] for p in meeting.commands[0]["args"]["participants"]}
    assert names == {"Cho Hyun", "Kevin Kim"}


def test_a_visit_announced_months_earlier_is_not_linked_to_a_later_meeting(officials, curator):
    # given a planned, undated meeting announced in an article of early August
    announced = _ingest(
        "SEOUL, Aug. 5 (Yonhap) -- Foreign Minister Cho Hyun will meet Secretary of State Marco Rubio "
        "in Washington, the ministry said, without giving a date.", "2025-08-05")
    article_suggest(article_id=announced.id)
    _accept_all(curator)
    (planned,) = Meeting.objects.all()
    assert planned.status == "planned" and planned.date == ""
    # when an October article reports a meeting of the two, held that month
    later = _ingest(
        "SEOUL, Oct. 30 (Yonhap) -- Foreign Minister Cho Hyun held talks with Secretary of State "
        "Marco Rubio in Gyeongju on Wednesday on the sidelines of the APEC summit.", "2025-10-30")
    (outcome,) = article_suggest(article_id=later.id)
    # then it is a new meeting, not the announced visit
    assert outcome.action == "new"


def test_new_person_with_a_known_post_is_proposed_with_the_tenure(officials, curator):
    text = ("WASHINGTON, Aug. 2 -- Deputy Secretary of State Christopher Landau met Under Secretary "
            "of State for Political Affairs Allison Hooker on Friday.")
    from people.commands import post_ensure

    post = post_ensure(title="Deputy Secretary of State", organization_name="Department of State", country="US",
                       context=SYSTEM)
    article_suggest(article_id=_ingest(text, "2025-08-02").id)
    proposal = Proposal.objects.get(kind="new_person")
    assert [c["command"] for c in proposal.commands] == ["person_register", "person_tenure_start"]
    assert proposal.commands[1]["args"]["post_id"] == str(post)
    _accept_all(curator)
    from people.selectors import person_find_by_name

    (landau,) = person_find_by_name("Christopher Landau")
    assert landau.tenures.get().post_id == post


def test_an_article_with_too_many_meetings_proposes_the_most_certain_and_says_so(officials, monkeypatch):
    from meetings.ingest import suggestions
    from meetings.ingest.models import IngestionFailure

    monkeypatch.setattr(suggestions, "MAX_MEETINGS_PER_ARTICLE", 1)
    text = HELD + (" Separately, Foreign Minister Cho Hyun spoke by phone with Secretary of State "
                   "Marco Rubio on Thursday about tariffs.")
    outcomes = article_suggest(article_id=_ingest(text, "2025-10-10").id)
    assert len(outcomes) == 1
    assert Proposal.objects.filter(kind="new_meeting").count() == 1
    assert IngestionFailure.objects.get().kind == "too_many_meetings"


def test_two_mentions_of_one_pending_meeting_attach_the_article_once(officials, monkeypatch):
    from meetings.ingest import suggestions

    article_suggest(article_id=_ingest(HELD, "2025-10-10").id)
    extract = suggestions.article_extract

    def twice(article, known):  # the story reports the same talks in two places
        extraction = extract(article, known)
        extraction.meetings = extraction.meetings * 2
        return extraction

    monkeypatch.setattr(suggestions, "article_extract", twice)
    second = _ingest(FOLLOW_UP, "2025-10-11")
    outcomes = article_suggest(article_id=second.id)
    assert [o.action for o in outcomes] == ["attach", "attach"]
    proposal = Proposal.objects.get()
    assert [e.article_id for e in proposal.evidences.order_by("index")][1:] == [second.id]


def test_the_suggestion_task_of_an_article_that_is_gone_does_nothing():
    import uuid

    from meetings.tasks import suggest_from_article_task

    assert suggest_from_article_task(str(uuid.uuid4())) == 0
    assert not Proposal.objects.exists()


def test_a_meeting_recorded_with_names_only_is_cited_by_a_report_of_it(db):
    # given a meeting whose participants are on record by name only (no persons yet)
    meeting = meeting_record(
        participants=[{"name": "Park Yoon-joo"}, {"name": "Allison Hooker"}],
        date="2025-10-10", status="held", context=SYSTEM,
    )
    # when an article reports it
    (outcome,) = article_suggest(article_id=_ingest(HELD, "2025-10-10").id)
    # then
    assert outcome.action == "cite" and outcome.meeting_id == meeting.id



def test_a_permission_revoked_between_two_articles_is_seen_by_the_second(officials):
    from django.contrib.auth.models import Group
    from django.core.exceptions import PermissionDenied

    from tracker.moderation.roles import CONTRIBUTOR, robot_user

    # given an article that raises a proposal as the robot
    first = _ingest(HELD, "2025-10-10")
    assert [o.action for o in article_suggest(article_id=first.id)] == ["new"]
    # when the robot loses its role between two articles
    robot_user().groups.remove(Group.objects.get(name=CONTRIBUTOR))
    second = _ingest(FOLLOW_UP, "2025-10-11")
    # then the next article's proposal is refused and nothing is attached
    with pytest.raises(PermissionDenied):
        article_suggest(article_id=second.id)
    assert [e.article_id for e in Proposal.objects.get().evidences.all()] == [first.id]
    # and once the role is back, the article after it attaches its evidence again
    robot_user().groups.add(Group.objects.get(name=CONTRIBUTOR))
    (outcome,) = article_suggest(article_id=second.id)
    assert outcome.action == "attach"
    assert [e.article_id for e in Proposal.objects.get().evidences.order_by("index")] == [first.id, second.id]


def test_only_meetings_near_the_mentions_date_are_link_candidates(officials):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from meetings.models import Participation

    # given the pair's meetings on record: many months before, and the one the article reports
    pair = [{"person_id": str(officials["Park Yoon-joo"])}, {"person_id": str(officials["Allison Hooker"])}]
    earlier = [
        meeting_record(participants=pair, date=f"2024-{month:02d}-10", status="held", context=SYSTEM).id
        for month in range(1, 7)
    ]
    reported = meeting_record(participants=pair, date="2025-10-10", status="held", context=SYSTEM)
    undated = meeting_record(participants=pair, status="held", context=SYSTEM)
    article = _ingest(HELD, "2025-10-10")
    # when its suggestions are made
    with CaptureQueriesContext(connection) as queries:
        (outcome,) = article_suggest(article_id=article.id)
    # then it cites the meeting it reports
    assert outcome.action == "cite" and outcome.meeting_id == reported.id
    # and the meetings loaded as candidates were that one and the undated one, not the earlier ones
    loaded = [q["sql"] for q in queries.captured_queries if q["sql"].startswith('SELECT "meetings_meeting"."id"')]
    assert len(loaded) == 1 and str(reported.id).replace("-", "") in loaded[0].replace("-", "")
    assert str(undated.id).replace("-", "") in loaded[0].replace("-", "")
    assert not any(str(m).replace("-", "") in loaded[0].replace("-", "") for m in earlier)
    assert Participation.objects.filter(meeting_id__in=earlier).count() == 12
