"""The event log admin is a read-only view of the log."""
import uuid

import pytest
from django.urls import reverse

from tests.eventstore.sample import SampleNamed
from tracker.eventstore.api import Context, append
from tracker.eventstore.models import Event

pytestmark = pytest.mark.django_db


def _sample_stream(name: str = "first") -> uuid.UUID:
    stream = uuid.uuid4()
    append(
        stream_type="sample",
        stream_id=stream,
        expected_version=0,
        events=[SampleNamed(name=name)],
        context=Context.system(reason="fixture"),
    )
    return stream


def test_event_log_lists_events_and_finds_a_stream_by_id(curator_client):
    # given two streams in the log
    wanted, other = _sample_stream("wanted"), _sample_stream("other")
    # when the curator searches the changelist by one stream id
    url = reverse("admin:eventstore_event_changelist")
    response = curator_client.get(url, {"q": str(wanted)})
    # then only that stream's event is listed
    assert response.status_code == 200
    shown = {e.stream_id for e in response.context["cl"].result_list}
    assert shown == {wanted}
    assert other not in shown


def test_event_log_filters_by_type_and_stream_type(curator_client):
    # given a sample event in the log
    stream = _sample_stream()
    # when filtered by type and stream type
    response = curator_client.get(
        reverse("admin:eventstore_event_changelist"), {"type": "SampleNamed", "stream_type": "sample"}
    )
    # then it is listed, and the filters are offered
    assert response.status_code == 200
    assert stream in {e.stream_id for e in response.context["cl"].result_list}
    assert {f.title for f in response.context["cl"].filter_specs} >= {"type", "stream type"}


def test_event_log_refuses_add_change_and_delete(curator_client, curator):
    # given an event
    stream = _sample_stream()
    event = Event.objects.get(stream_id=stream)
    change_url = reverse("admin:eventstore_event_change", args=[event.pk])
    # when the curator tries to add, change and delete through the admin
    add = curator_client.get(reverse("admin:eventstore_event_add"))
    change = curator_client.post(change_url, {"type": "Forged"})
    delete = curator_client.post(
        reverse("admin:eventstore_event_delete", args=[event.pk]), {"post": "yes"}
    )
    bulk = curator_client.post(
        reverse("admin:eventstore_event_changelist"),
        {"action": "delete_selected", "_selected_action": [event.pk], "post": "yes"},
    )
    # then every write is refused and the event is untouched; viewing still works
    assert add.status_code == 403
    assert change.status_code == 403
    assert delete.status_code == 403
    assert bulk.status_code in (200, 302)
    event.refresh_from_db()
    assert event.type == "SampleNamed"
    assert Event.objects.filter(stream_id=stream).count() == 1
    view = curator_client.get(change_url)
    assert view.status_code == 200
    assert b"SampleNamed" in view.content
    assert b'name="_save"' not in view.content
