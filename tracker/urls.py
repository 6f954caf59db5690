"""URL configuration: the admin and the versioned REST API."""
from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

urlpatterns = [
    # the curators' home; API consumers start at /api/v1/ (docs at /api/v1/docs/)
    path("", RedirectView.as_view(url="/admin/", permanent=False)),
    path("admin/", admin.site.urls),
    path("api/v1/", include("tracker.api.router", namespace="api")),
]
