"""Pagination classes for the API."""
from __future__ import annotations

from rest_framework.pagination import CursorPagination, PageNumberPagination


class DefaultPagination(PageNumberPagination):
    """Page-number pagination for the small reference lists (people, posts, organizations...)."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500


class MeetingCursorPagination(CursorPagination):
    """Cursor pagination by meeting date; stable while the record grows.

    The cursor position is the annotated `sort_date` (earliest possible day of the partial
    date, with undated meetings sorted as 0001-01-01) so it is never NULL; `?ordering=date`
    gives oldest first, the default is newest first.
    """

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500
    ordering = ("-sort_date", "-id")

    def get_ordering(self, request, queryset, view):  # type: ignore[no-untyped-def]
        if request.query_params.get("ordering") == "date":
            return ("sort_date", "id")
        return self.ordering
