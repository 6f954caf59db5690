"""The content store: a text is stored once, and a taken-down text stays down."""
import pytest

from tracker.eventstore.api import Context, content_get, content_put, content_takedown
from tracker.eventstore.models import Content

pytestmark = pytest.mark.django_db

CTX = Context.system(reason="court order 12/2025", via="cli")


def test_a_text_is_stored_once_under_its_hash():
    first = content_put("Cho Hyun met Marco Rubio.")
    assert content_put("Cho Hyun met Marco Rubio.") == first
    assert Content.objects.count() == 1
    assert content_get(first) == "Cho Hyun met Marco Rubio."


def test_storing_a_taken_down_text_again_does_not_bring_it_back():
    digest = content_put("A story that was taken down.")
    content_takedown(sha256=digest, context=CTX)
    assert content_put("A story that was taken down.") == digest
    assert content_get(digest) is None
    assert Content.objects.get(pk=digest).removed_at is not None
