import pytest
from django.urls import reverse

from meetings.ingest.models import Feed, IngestionFailure
from meetings.models import SourceArticle

pytestmark = pytest.mark.django_db

TEXT = ("SEOUL, Oct. 10 (Yonhap) -- First Vice Foreign Minister Park Yoon-joo held talks with "
        "Under Secretary of State Allison Hooker in Seoul on Friday.")


@pytest.fixture
def curator_client(client, curator):
    client.force_login(curator)
    return client


def test_curator_submits_pasted_text_and_it_is_stored_once(curator_client):
    url = reverse("admin:ingest_submit")
    assert curator_client.get(url).status_code == 200
    response = curator_client.post(url, {"text": TEXT, "published": "2025-10-10"})
    assert response.status_code == 302
    article = SourceArticle.objects.get()
    assert article.published_date == "2025-10-10"
    curator_client.post(url, {"text": TEXT, "published": "2025-10-10"})
    assert SourceArticle.objects.count() == 1


def test_submit_refuses_a_non_utf8_upload_with_a_clear_message(curator_client):
    from django.core.files.uploadedfile import SimpleUploadedFile

    upload = SimpleUploadedFile("story.txt", "Séoul talks".encode("latin-1"))
    response = curator_client.post(reverse("admin:ingest_submit"), {"file": upload})
    assert response.status_code == 200
    assert "not valid UTF-8" in response.content.decode()
    assert IngestionFailure.objects.get().stage == "decode"


def test_feed_is_registered_through_the_command_and_failures_are_listed(curator_client):
    response = curator_client.post(
        reverse("admin:ingest_feed_add"),
        {"url": "https://news.example/rss", "title": "Wire", "publisher": "", "interval_minutes": 15,
         "active": "on", "reason": "new source", "expected_version": 0},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    feed = Feed.objects.get()
    assert feed.interval_minutes == 15 and feed.version == 1
    assert curator_client.get(reverse("admin:ingest_ingestionfailure_changelist")).status_code == 200
