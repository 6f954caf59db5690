import pytest
from django.utils import timezone

from meetings.ingest.commands import feed_register
from meetings.ingest.models import (
    ArticleFingerprint,
    FeedEntrySeen,
    FeedPollState,
    IngestionFailure,
)
from meetings.ingest.services import (
    IngestError,
    article_ingest_bytes,
    article_ingest_file,
    article_ingest_text,
    article_ingest_url,
    feed_poll,
    feeds_due,
)
from meetings.models import SourceArticle
from tests.meetings.ingest.server import LocalServer, respond
from tracker.eventstore.api import Context, content_get
from tracker.eventstore.models import Event

pytestmark = pytest.mark.django_db

CTX = Context.system(reason="test ingestion", via="cli")
STORY = (
    "SEOUL, Oct. 10 (Yonhap) -- First Vice Foreign Minister Park Yoon-joo held talks with "
    "Under Secretary of State for Political Affairs Allison Hooker in Seoul on Friday, the "
    "foreign ministry said. The two discussed the alliance, tariffs and North Korea's nuclear "
    "programme, and agreed to keep in close contact ahead of the APEC summit in Gyeongju."
)

RSS = """<?xml version="1.0"?><rss version="2.0"><channel><title>Wire</title>
<item><title>Park meets Hooker</title><link>{base}/a</link><guid>a-1</guid>
<pubDate>Fri, 10 Oct 2025 07:30:00 +0900</pubDate></item>
<item><title>Second</title><link>{base}/b</link><guid>b-1</guid></item>
</channel></rss>"""


@pytest.fixture
def server(settings):
    settings.INGEST_ALLOWED_NETWORKS = ["127.0.0.1/32"]
    s = LocalServer()
    yield s
    s.close()


def test_same_text_twice_is_one_article_and_one_event():
    first = article_ingest_text(text=STORY, context=CTX, published="2025-10-10")
    again = article_ingest_text(text=STORY + "\n", context=CTX, published="2025-10-10")
    assert first.created and not again.created
    assert again.article.id == first.article.id
    assert SourceArticle.objects.count() == 1
    assert Event.objects.filter(stream_type="article").count() == 1
    assert content_get(first.article.content_hash).startswith("SEOUL, Oct. 10")


def test_a_new_article_is_looked_up_once_and_a_url_spelled_otherwise_finds_it():
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    # when a new article is ingested
    with CaptureQueriesContext(connection) as queries:
        first = article_ingest_text(text=STORY, url="https://example.org/talks", context=CTX, suggest=False)
    # then it was looked up by URL and text once (the registration did not look again), and read back once
    reads = [q["sql"] for q in queries.captured_queries if q["sql"].startswith('SELECT "meetings_sourcearticle"."id"')]
    assert first.created and len(reads) == 2
    # and the same page under a spelling with spaces and a fragment is the same article
    again = article_ingest_text(text=STORY + " ", url=" https://example.org/talks#top ", context=CTX, suggest=False)
    assert not again.created and again.article.id == first.article.id
    assert Event.objects.filter(stream_type="article").count() == 1


def test_syndicated_copy_is_linked_to_its_original():
    original = article_ingest_text(text=STORY, context=CTX, url="https://wire.example/a")
    copy = STORY.replace("(Yonhap) ", "").replace("programme", "program") + " Reporting by staff."
    result = article_ingest_text(text=copy, context=CTX, url="https://other.example/b")
    assert result.created
    assert result.duplicate_of == original.article.id
    assert SourceArticle.objects.get(pk=result.article.id).duplicate_of_id == original.article.id
    other = article_ingest_text(
        text="WASHINGTON, Aug. 1 -- Secretary of State Marco Rubio spoke by phone with Japan's "
        "foreign minister about shipbuilding, export controls and the G7 agenda for next year.",
        context=CTX,
    )
    assert other.duplicate_of is None


def test_a_copy_of_a_copy_is_linked_to_the_first_original():
    original = article_ingest_text(text=STORY, context=CTX, url="https://wire.example/a")
    copy = STORY.replace("(Yonhap) ", "") + " Reporting by staff."
    first = article_ingest_text(text=copy, context=CTX, url="https://other.example/b")
    second = article_ingest_text(text=copy + " Edited by desk.", context=CTX, url="https://third.example/c")
    assert first.duplicate_of == second.duplicate_of == original.article.id
    assert SourceArticle.objects.get(pk=second.article.id).duplicate_of_id == original.article.id


def test_a_text_near_a_copy_but_not_near_its_root_is_linked_to_the_root():
    import random

    # given a story (600 words) and a copy that rewrote its last quarter (estimated Jaccard ~0.56)
    rng = random.Random(7)
    words = [f"w{rng.randrange(10**6)}" for _ in range(600)]
    copy = words[:450] + [f"c{i}" for i in range(150)]
    root = article_ingest_text(text=" ".join(words), context=CTX, suggest=False)
    first = article_ingest_text(text=" ".join(copy), context=CTX, suggest=False)
    assert first.duplicate_of == root.article.id
    # when a text near the copy (~0.69) and far from the story (~0.38) arrives
    third = article_ingest_text(text=" ".join([f"x{i}" for i in range(150)] + copy[150:]), context=CTX, suggest=False)
    # then the copies were compared too, and it is linked to the story's first article
    assert third.duplicate_of == root.article.id


def test_a_copy_is_compared_with_its_story_first_article_only():
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    # given a story syndicated five times
    original = article_ingest_text(text=STORY, context=CTX, suggest=False)
    copies = [
        article_ingest_text(text=f"{STORY} Copy {i} by desk {i}.", context=CTX, suggest=False).article.id
        for i in range(5)
    ]
    # (their signatures are spoilt: comparing with one would fail)
    ArticleFingerprint.objects.filter(article_id__in=copies).update(signature=[])
    # when one more copy arrives
    with CaptureQueriesContext(connection) as queries:
        result = article_ingest_text(text=f"{STORY} Another copy by desk 9.", context=CTX, suggest=False)
    # then one read of signatures found the first article: the five copies' were not read
    assert result.duplicate_of == original.article.id
    reads = [q for q in queries.captured_queries if q["sql"].startswith("SELECT") and "ingest_articlefingerprint" in q["sql"]]
    assert len(reads) == 1


def test_publication_time_keeps_the_local_date():
    result = article_ingest_text(text=STORY, context=CTX, published="2025-10-10T07:30:00+09:00")
    assert result.article.published_date == "2025-10-10"


def test_non_utf8_file_is_kept_with_a_clear_error_and_a_visible_failure(tmp_path):
    path = tmp_path / "latin1.txt"
    path.write_bytes(STORY.replace("Seoul", "Séoul").encode("latin-1"))
    with pytest.raises(IngestError, match=r"latin1.txt is not valid UTF-8: byte 0xe9"):
        article_ingest_file(path, context=CTX)
    article = SourceArticle.objects.get()
    assert "S\ufffdoul" in content_get(article.content_hash)
    failure = IngestionFailure.objects.get()
    assert failure.stage == "decode" and failure.article_id == article.id


def test_oversized_file_is_refused_and_recorded(tmp_path, settings):
    settings.INGEST_MAX_BYTES = 1000
    path = tmp_path / "big.txt"
    path.write_text("x" * 5000)
    with pytest.raises(IngestError, match="the cap is 1,000"):
        article_ingest_file(path, context=CTX)
    assert SourceArticle.objects.count() == 0
    assert IngestionFailure.objects.get().kind == "too_large"


def test_empty_upload_is_refused():
    with pytest.raises(Exception, match="no text"):
        article_ingest_bytes(b"  \n", name="empty.txt", context=CTX)


def test_url_ingestion_extracts_and_stores_then_dedupes(server):
    page = f"<html><head><title>Park meets Hooker</title></head><body><article><p>{STORY}</p></article></body></html>"
    server.routes["/a"] = respond(page)
    first = article_ingest_url(server.url("/a"), context=CTX)
    assert first.created and first.article.title == "Park meets Hooker"
    again = article_ingest_url(server.url("/a"), context=CTX)
    assert again.article.id == first.article.id and not again.created
    assert server.hits["/a"] == 1  # a known URL is not fetched again


def test_failed_fetch_is_recorded_for_curators(server):
    server.routes["/gone"] = respond("nope", status=404)
    with pytest.raises(IngestError):
        article_ingest_url(server.url("/gone"), context=CTX)
    with pytest.raises(IngestError):
        article_ingest_url(server.url("/gone"), context=CTX)
    failure = IngestionFailure.objects.get()
    assert failure.kind == "http_error" and failure.attempts == 2 and "HTTP 404" in failure.message


def test_feed_poll_queues_new_entries_then_uses_conditional_get(server, django_capture_on_commit_callbacks):
    # given
    server.routes["/feed"] = respond(RSS.format(base=server.url("")), content_type="application/rss+xml",
                                     headers={"ETag": '"v1"'})
    feed = feed_register(url=server.url("/feed"), title="Wire", context=CTX)
    # when
    with django_capture_on_commit_callbacks() as callbacks:
        first = feed_poll(feed.id)
    # then
    assert [u.rsplit("/", 1)[1] for u in first.new_entries] == ["a", "b"]
    assert len(callbacks) == 2  # two ingest tasks queued on commit
    assert FeedEntrySeen.objects.count() == 2
    assert FeedPollState.objects.get().etag == '"v1"'
    assert feed.id not in feeds_due()

    # the server now answers 304 to the validator
    server.routes["/feed"] = respond(b"", status=304)
    second = feed_poll(feed.id)
    assert second.not_modified and second.new_entries == []
    assert server.request_headers["/feed"]["If-None-Match"] == '"v1"'
    assert feed.id in feeds_due(timezone.now() + timezone.timedelta(hours=1))


def test_unchanged_feed_without_validators_queues_nothing_new(server):
    server.routes["/feed"] = respond(RSS.format(base=server.url("")), content_type="application/rss+xml")
    feed = feed_register(url=server.url("/feed"), context=CTX)
    feed_poll(feed.id)
    assert feed_poll(feed.id).new_entries == []


def test_broken_feed_xml_is_a_visible_failure(server):
    server.routes["/bad"] = respond("<rss><channel><item><title>unclosed", content_type="application/rss+xml")
    feed = feed_register(url=server.url("/bad"), context=CTX)
    with pytest.raises(IngestError):
        feed_poll(feed.id)
    failure = IngestionFailure.objects.get()
    assert failure.stage == "feed" and failure.feed_id == feed.id
    assert FeedPollState.objects.get().last_status.startswith("failed")


def test_a_successful_retry_resolves_the_failure_even_through_a_redirect(server):
    from tests.meetings.ingest.server import redirect

    server.routes["/moved"] = respond("busy", status=503)
    with pytest.raises(IngestError):
        article_ingest_url(server.url("/moved"), context=CTX)
    server.routes["/moved"] = redirect("/final")
    server.routes["/final"] = respond(f"<html><body><article><p>{STORY}</p></article></body></html>")
    article_ingest_url(server.url("/moved"), context=CTX)
    assert IngestionFailure.objects.get().resolved_at is not None
