"""The OpenAPI schema: valid, served with offline docs, and honoured by every endpoint (schemathesis)."""
from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

pytestmark = pytest.mark.django_db


def test_schema_and_offline_docs_are_served(anon):
    # when
    schema = anon.get("/api/v1/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    docs = anon.get("/api/v1/docs/")
    # then
    assert schema.status_code == 200
    paths = schema.json()["paths"]
    for path in ["/api/v1/meetings/", "/api/v1/meetings/{id}/history/", "/api/v1/changes/",
                 "/api/v1/people/{id}/counterparts/", "/api/v1/proposals/", "/api/v1/export/meetings.jsonl"]:
        assert path in paths
    params = {p["name"] for p in paths["/api/v1/meetings/"]["get"]["parameters"]}
    assert {"participant", "country_pair", "date_from", "date_to", "q", "topic", "cursor"} <= params
    assert "412" in paths["/api/v1/meetings/{id}/"]["patch"]["responses"]
    # Swagger UI comes from the sidecar package, not a CDN
    html = docs.content.decode()
    assert docs.status_code == 200
    assert "cdn" not in html.lower()
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/" in html


@pytest.fixture
def curator_token(curator) -> str:  # type: ignore[no-untyped-def]
    return curator._credentials["HTTP_AUTHORIZATION"]


@pytest.fixture
def api_schema(build, curator_token):  # type: ignore[no-untyped-def]
    """The live schema over the in-process WSGI app, with some records to find."""
    from django.core import signals
    from django.db import close_old_connections

    from tracker.wsgi import application

    # As Django's test client does: a request must not close the test's transaction.
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)

    a, b = build.person("Cho Hyun", "KR", aliases=("Jo Hyeon",)), build.person("Marco Rubio", "US")
    meeting = build.meeting(a, b, date="2025-10", title="Talks", topics=["alliance"])
    article = build.article("https://example.com/a", text="Cho met Rubio.")
    build.cite(meeting.pk, article.pk, "Cho met Rubio.")
    try:
        yield schemathesis.openapi.from_wsgi("/api/v1/schema/", application)
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)


# schemathesis' pytest plugin (`from_fixture(...).parametrize()`) reads a private pytest
# attribute that pytest 9 removed, so the operations are driven through its Python API.
def test_every_endpoint_honours_the_schema(api_schema, curator_token):
    """No 5xx and no response that breaks the schema, 5 generated requests per operation."""
    failures: list[str] = []
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) > 15

    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(max_examples=5, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True,
                  database=None)
        def check(case):  # type: ignore[no-untyped-def]
            response = case.call(headers={"Authorization": curator_token})
            case.validate_response(response, checks=[not_a_server_error, response_schema_conformance])

        try:
            check()
        except Exception as exc:  # noqa: BLE001  (collected so one run reports every operation)
            failures.append(f"{operation.method.upper()} {operation.path}: {exc}")
    assert not failures, "\n\n".join(failures)
