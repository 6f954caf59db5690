"""A curator drives the real admin in headless Chromium."""
import pytest
from django.contrib.auth.models import Group, Permission, User

from meetings import commands
from tracker.eventstore.api import Context

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _curator() -> User:
    from tracker.moderation.roles import sync_roles

    # transactional tests flush the tables, migration-made groups included: make them again
    sync_roles(Group=Group, Permission=Permission)
    user = User.objects.create_user(username="carla", password="s3cret-pw", is_staff=True)
    user.groups.add(Group.objects.get(name="curator"))
    return user


def _login(page, live_server, username: str, password: str) -> None:
    page.goto(f"{live_server.url}/admin/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("input[type=submit]")
    page.wait_for_selector("#site-name")


def test_curator_opens_a_meeting_and_its_history(live_server, page, screenshot):
    # given a curator and a meeting recorded through the commands
    _curator()
    meeting = commands.meeting_record(
        participants=[{"name": "Cho Hyun", "side": "KR"}, {"name": "Marco Rubio", "side": "US"}],
        title="Cho–Rubio talks", date="2025-07-11", context=Context.system(reason="fixture"),
    )
    # when the curator logs in and opens the meeting, then its history
    _login(page, live_server, "carla", "s3cret-pw")
    page.goto(f"{live_server.url}/admin/meetings/meeting/{meeting.pk}/change/")
    assert page.input_value("#id_title") == "Cho–Rubio talks"
    page.click("a.historylink")
    # then the history lists the recording event
    page.wait_for_selector("#change-history")
    assert "MeetingRecorded" in page.inner_text("#change-history")
    screenshot("meeting-history")
