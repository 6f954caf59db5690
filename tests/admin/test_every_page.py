"""Every admin page a curator can reach renders, on the demo data plus a pending proposal."""
import pytest
from django.contrib import admin
from django.urls import reverse

from tracker.demo.loader import demo_load
from tracker.eventstore.api import Context
from tracker.moderation.commands import proposal_submit
from tracker.moderation.roles import robot_context, robot_user

pytestmark = [pytest.mark.django_db, pytest.mark.slow]


def test_every_registered_admin_page_renders_for_a_curator(curator_client, curator):
    # given the demo data and one pending robot proposal
    demo_load(context=Context.system(reason="demo data", via="cli"))
    proposal_submit(
        user=robot_user(), context=robot_context(), kind="new_person",
        commands=[{"command": "person_register", "args": {"name": "Wang Yi", "country": "CN"}}],
        summary="New person: Wang Yi",
    )
    # when the curator opens the home, every changelist, and each model's first object pages
    urls = [reverse("admin:index")]
    for model, model_admin in admin.site._registry.items():
        opts = model._meta
        base = f"admin:{opts.app_label}_{opts.model_name}"
        urls.append(reverse(f"{base}_changelist"))
        first = model_admin.get_queryset(_request(curator)).first()
        if first is not None:
            urls.append(reverse(f"{base}_change", args=[first.pk]))
            urls.append(reverse(f"{base}_history", args=[first.pk]))
    failures = {url: curator_client.get(url).status_code for url in urls}
    # then every page answers 200 (or 403 for a model the curator may not see at all)
    assert {url: code for url, code in failures.items() if code not in (200, 403)} == {}
    core = [u for u in urls if "/people/" in u or "/meetings/" in u or "/moderation/" in u or "/eventstore/" in u]
    assert all(failures[u] == 200 for u in core), {u: failures[u] for u in core if failures[u] != 200}


def _request(user):
    from django.test import RequestFactory

    request = RequestFactory().get("/")
    request.user = user
    return request
