"""A curator drives the real admin in headless Chromium: queue → review → accept → meeting → history."""
import uuid

import pytest
from django.contrib.auth.models import Group, Permission, User

from meetings import commands as meeting_commands
from meetings.models import Meeting
from tracker.eventstore.api import Context
from tracker.moderation.commands import proposal_submit

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "s3cret-pw"
TEXT = (
    "SEOUL, Nov. 3 (Yonhap) -- Foreign Minister Cho Hyun met U.S. Secretary of State Marco Rubio "
    "on Monday in Washington, the ministry said. The two discussed the alliance, tariffs and "
    "North Korea. <b>Cho</b> is on a four-day visit."
)
EVIDENCE = "Foreign Minister Cho Hyun met U.S. Secretary of State Marco Rubio on Monday in Washington"


def _roles() -> tuple[User, User]:
    """The curator and the robot (transactional tests flush migration-made rows, so remake them)."""
    from tracker.moderation.roles import sync_roles

    sync_roles(Group=Group, Permission=Permission)
    robot, _ = User.objects.get_or_create(username="robot", defaults={"first_name": "News robot"})
    robot.groups.add(Group.objects.get(name="contributor"))
    curator = User.objects.create_user(username="carla", password=PASSWORD, is_staff=True)
    curator.groups.add(Group.objects.get(name="curator"))
    return curator, robot


def _robot_proposal(robot: User) -> tuple[uuid.UUID, str]:
    """An ingested article and the robot's 'new meeting' proposal from it (dated a day late)."""
    ctx = Context.for_user(robot, via="suggestion")
    article = meeting_commands.article_register(
        context=ctx, url="https://news.example/2025/11/03/cho-rubio", title="Cho meets Rubio in Washington",
        publisher="Yonhap", published_date="2025-11-03", text=TEXT,
    )
    start = TEXT.index(EVIDENCE)
    sentence = {"text": EVIDENCE, "start": start, "end": start + len(EVIDENCE)}
    meeting_id = str(uuid.uuid4())
    proposal_submit(
        user=robot, context=ctx, kind="new_meeting", confidence=0.92,
        commands=[
            {"command": "meeting_record", "args": {
                "meeting_id": meeting_id, "title": "Cho–Rubio talks", "date": "2025-11-04",
                "location_name": "Washington", "location_country": "US",
                "participants": [{"name": "Cho Hyun", "side": "KR"}, {"name": "Marco Rubio", "side": "US"}],
            }},
            {"command": "meeting_cite_article", "args": {
                "meeting_id": meeting_id, "article_id": str(article.pk), "evidence": [sentence],
            }},
        ],
        evidence={"article_id": str(article.pk), "sentences": [sentence]},
        dedupe_key=f"article:{article.pk}:meeting:0",
        summary="Cho Hyun met Marco Rubio in Washington",
    )
    # an existing meeting two days later sharing one participant: a possible duplicate to rule out
    meeting_commands.meeting_record(
        participants=[{"name": "Cho Hyun", "side": "KR"}, {"name": "Wang Yi", "side": "CN"}],
        title="Cho–Wang phone call", date="2025-11-05", mode="phone", kind="phone_call",
        context=Context.system(reason="fixture"),
    )
    # a second, less certain proposal so the queue shows its ordering
    proposal_submit(
        user=robot, context=ctx, kind="new_person", confidence=0.55,
        commands=[{"command": "person_register", "args": {"name": "Cho Hyeon", "country": "KR"}}],
        evidence={"article_id": str(article.pk), "sentences": [sentence]},
        dedupe_key=f"article:{article.pk}:person:0", summary="New person: Cho Hyeon",
    )
    return uuid.UUID(meeting_id), article.title


def _login(page, live_server, username: str) -> None:
    page.goto(f"{live_server.url}/admin/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_selector("#site-name")


def test_curator_reviews_edits_and_accepts_a_robot_proposal(live_server, page, screenshot):
    # given a curator and a pending robot proposal made from an ingested article
    curator, robot = _roles()
    meeting_id, article_title = _robot_proposal(robot)

    # when the curator logs in, the home page counts the pending proposals
    _login(page, live_server, curator.username)
    assert "Pending proposals: 2" in page.inner_text("#curator-home")
    screenshot("home")

    # and the queue lists them, most confident first
    page.click("#curator-home h3 a")
    page.wait_for_selector("#result_list")
    rows = page.locator("#result_list tbody tr")
    assert rows.count() == 2
    assert "Cho Hyun met Marco Rubio" in rows.nth(0).inner_text()
    screenshot("queue")

    # when the curator opens the proposal
    page.click("text=Cho Hyun met Marco Rubio in Washington")
    page.wait_for_selector("#review-form")
    # then the article is shown as text with the evidence highlighted
    assert page.inner_text("#article-text mark") == EVIDENCE
    assert "<b>Cho</b>" in page.inner_text("#article-text")  # markup shown, not rendered
    # and a meeting sharing a participant within three days is offered as a possible duplicate
    assert "Cho–Wang phone call" in page.inner_text(".review-side")
    screenshot("review")
    # when the curator says it is not the same, it is remembered and no longer offered
    page.click("input[name=_distinct]")
    page.wait_for_selector("#review-form")
    assert "Cho–Wang phone call" not in page.inner_text(".review-side")
    # when they correct the date (the article says Monday, Nov. 3) and accept
    page.fill("#id_arg-0-date", "2025-11-03")
    page.fill("#id_reason", "the article says Monday, 3 November")
    page.click("input[name=_accept]")

    # then the meeting page opens, with the corrected date and the article cited
    page.wait_for_selector("#meeting_form")
    assert "Accepted: 2 event(s) appended" in page.inner_text(".messagelist")
    assert page.input_value("#id_date") == "2025-11-03"
    assert page.input_value("#id_title") == "Cho–Rubio talks"
    assert article_title in page.inner_text("#citations-group")
    assert Meeting.objects.get(pk=meeting_id).date == "2025-11-03"
    screenshot("meeting")

    # and its history shows the recording and the citation, applied via the proposal
    page.click("a.historylink")
    page.wait_for_selector("#change-history")
    history = page.inner_text("#change-history")
    assert "MeetingRecorded" in history and "ArticleCited" in history
    assert "carla" in history and "2025-11-03" in history
    screenshot("meeting-history")
