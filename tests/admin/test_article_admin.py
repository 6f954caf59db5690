"""Source articles in the admin: the body is shown escaped; metadata edits go through the command."""
import pytest
from django.urls import reverse

from meetings import commands
from tracker.eventstore.api import Context, load_stream

pytestmark = pytest.mark.django_db

BODY = "<h1>Talks</h1><img src=x onerror=alert(1)> Cho met Rubio & discussed tariffs."


def _article():
    return commands.article_register(
        context=Context.system(reason="fixture"), url="https://news.example/a", title="Cho meets Rubio",
        publisher="Yonhap", published_at="2025-11-03T09:00:00+09:00", text=BODY,
    )


def test_article_page_shows_the_body_escaped_never_rendered(curator_client):
    # given an article whose body contains markup
    article = _article()
    # when the curator opens it and its history
    page = curator_client.get(reverse("admin:meetings_sourcearticle_change", args=[article.pk]))
    history = curator_client.get(reverse("admin:meetings_sourcearticle_history", args=[article.pk]))
    # then the markup is visible as text and no tag from the article is in the page
    html = page.content.decode()
    assert page.status_code == history.status_code == 200
    assert "<img src=x" not in html and "<h1>Talks" not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html and "Rubio &amp; discussed" in html


def test_article_metadata_edit_appends_article_revised_via_admin(curator_client):
    # given an article
    article = _article()
    url = reverse("admin:meetings_sourcearticle_change", args=[article.pk])
    data = {
        "url": article.url, "canonical_url": article.canonical_url, "title": "Cho meets Rubio in Washington",
        "publisher": article.publisher, "wire_service": "Yonhap", "author": "",
        "published_at_0": "2025-11-03", "published_at_1": "00:00:00", "published_date": article.published_date,
        "language": "en", "reason": "headline updated by the publisher", "expected_version": article.version,
        "citations-TOTAL_FORMS": "0", "citations-INITIAL_FORMS": "0",
    }
    # when the curator changes the headline and the wire service
    response = curator_client.post(url, data)
    # then one ArticleRevised event carries those changes, via the admin
    assert response.status_code == 302, response.context["adminform"].form.errors
    last = load_stream(article.pk)[-1]
    assert last.type == "ArticleRevised" and last.metadata["via"] == "admin"
    assert last.data["changes"]["title"] == "Cho meets Rubio in Washington"
    assert last.data["changes"]["wire_service"] == "Yonhap"
