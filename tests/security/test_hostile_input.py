"""Hostile pages, feeds and uploads end in a recorded failure or a clean article, within bounds."""
import pytest
from django.test import override_settings

from meetings.ingest.feeds import parse_feed
from meetings.ingest.models import FeedEntrySeen, IngestionFailure
from meetings.models import SourceArticle
from tracker.eventstore.api import content_get
from tracker.security import hostile_server as hs
from tracker.security import sweep

pytestmark = pytest.mark.django_db

# What each case must end in: a recorded failure of a given kind, or a stored article.
EXPECTED = {
    "malformed_xml_feed": "failure recorded (bad_feed)",
    "billion_laughs_feed": "feed parsed",
    "external_entity_feed": "feed parsed",
    "binary_feed": "failure recorded (bad_feed)",
    "gzip_bomb_200mb": "failure recorded (too_large)",
    "page_50mb": "failure recorded (too_large)",
    "endless_redirects": "failure recorded (too_many_redirects)",
    "redirect_to_metadata_ip": "failure recorded (blocked)",
    "slow_drip": "failure recorded (timeout)",
    "wrong_charset": "article stored",
    "unknown_charset": "article stored",
    "missing_charset_cp1251": "article stored",
    "control_characters": "article stored",
    "deeply_nested_html": "failure recorded (empty)",
    "page_without_article": "failure recorded (empty)",
    "one_mb_single_line": "article stored",
    "upload_latin1": "failure recorded (not_utf8)",
    "upload_utf16_no_bom": "article stored",
    "upload_random_bytes": "failure recorded (not_utf8)",
    "upload_control_characters": "article stored",
}
SLOW = {"one_mb_single_line"}


@pytest.fixture(scope="module")
def server():
    with hs.HostileServer(sweep._routes()) as s:
        yield s


def test_every_sweep_case_has_an_expectation():
    assert {name for name, _ in sweep.cases()} == set(EXPECTED)


@pytest.mark.parametrize(
    "name", [pytest.param(n, marks=pytest.mark.slow) if n in SLOW else n for n in EXPECTED]
)
def test_hostile_case_survives_within_bounds(name, server):
    # given: the case's hostile input served on loopback (the guard allows only 127.0.0.1)
    case = dict(sweep.cases())[name]
    # when: it goes through the real ingestion services
    with override_settings(INGEST_ALLOWED_NETWORKS=["127.0.0.1/32"], INGEST_TIMEOUT_SECONDS=sweep.FETCH_TIMEOUT):
        result = sweep.run_case(name, case, server)
    # then: a recorded failure or a clean article, within the time and memory bounds
    assert result.survived, result.line()
    assert result.outcome.startswith(EXPECTED[name]), result.line()
    assert result.cpu_seconds < sweep.LIMIT_CPU_SECONDS
    assert result.peak_mb < sweep.LIMIT_MB


def test_the_sweep_leaves_nothing_behind(server):
    # given: an empty database
    # when: cases that store articles and failures run
    with override_settings(INGEST_ALLOWED_NETWORKS=["127.0.0.1/32"]):
        for name in ("control_characters", "upload_latin1", "malformed_xml_feed"):
            assert sweep.run_case(name, dict(sweep.cases())[name], server).survived
    # then: every case was rolled back
    assert not SourceArticle.objects.exists()
    assert not IngestionFailure.objects.exists()
    assert not FeedEntrySeen.objects.exists()


def test_billion_laughs_is_not_expanded():
    # given: a feed whose title is 10^10 "lol"s after entity expansion
    # when: it is parsed
    entries = parse_feed(hs.billion_laughs())
    # then: the title is not the expansion
    assert all(len(e.title) < 10_000 for e in entries)


def test_external_entities_are_never_read():
    # given: a feed whose title is an external entity pointing at a local file
    # when: it is parsed
    entries = parse_feed(hs.external_entity_feed())
    # then: nothing of the file made it into an entry
    assert entries and all("root:" not in e.title and "root:" not in e.summary for e in entries)


def test_control_characters_never_reach_the_stored_article(server):
    # given: a plain-text page full of C0/C1 control characters
    from meetings.ingest.services import article_ingest_url
    from tracker.eventstore.api import Context

    with override_settings(INGEST_ALLOWED_NETWORKS=["127.0.0.1/32"]):
        # when: it is ingested
        result = article_ingest_url(server.url("/controls"), context=Context.system(reason="test"))
    # then: the stored text keeps the words and drops every control character
    text = content_get(result.article.content_hash)
    assert "Cho Hyun met Marco Rubio" in text.replace("[31m", "")
    assert not sweep.CONTROL.search(text)


def test_hostile_sweep_command_prints_one_line_per_case(capsys):
    # given/when: the management command runs two cheap cases
    from django.core.management import call_command

    call_command("hostile_sweep", "endless_redirects", "upload_latin1")
    out = capsys.readouterr().out.splitlines()
    # then: one line per case and a summary with no crash
    assert [line.split()[1] for line in out[:2]] == ["case=endless_redirects", "case=upload_latin1"]
    assert all("result=survived" in line for line in out[:2])
    assert out[2].startswith("hostile: cases=2 survived=2 crashed=0")
