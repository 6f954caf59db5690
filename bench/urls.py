"""The tracker's URLs plus the API benchmark's baseline endpoint (bench settings only)."""
from django.urls import path

from tracker.urls import urlpatterns as tracker_urlpatterns

from .api import BaselineListView

urlpatterns = [*tracker_urlpatterns, path("bench/baseline/", BaselineListView.as_view())]
