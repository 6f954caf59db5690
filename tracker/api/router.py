"""The one API router (cookiecutter's config/api_router.py): /api/v1/..."""
from __future__ import annotations

from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView
from rest_framework.routers import DefaultRouter

from meetings.api.views import ArticleViewSet, MeetingExportView, MeetingViewSet
from people.api.views import OrganizationViewSet, PersonViewSet, PostViewSet

from .changes import ChangeFeedView
from .commands import CommandView
from .proposals import ProposalViewSet

router = DefaultRouter()
router.register("meetings", MeetingViewSet, basename="meeting")
router.register("people", PersonViewSet, basename="person")
router.register("organizations", OrganizationViewSet, basename="organization")
router.register("posts", PostViewSet, basename="post")
router.register("articles", ArticleViewSet, basename="article")
router.register("proposals", ProposalViewSet, basename="proposal")

app_name = "api"
urlpatterns = [
    path("changes/", ChangeFeedView.as_view(), name="changes"),
    path("commands/", CommandView.as_view(), name="commands"),
    path("export/meetings.jsonl", MeetingExportView.as_view(), name="export-meetings"),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api:schema"), name="docs"),
    path("redoc/", SpectacularRedocView.as_view(url_name="api:schema"), name="redoc"),
    path("", include(router.urls)),
]
