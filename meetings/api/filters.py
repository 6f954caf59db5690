"""Filters of the meetings API (django-filter FilterSets)."""
from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable

import django_filters
from django.db import connection
from django.db.models import Q, QuerySet

from meetings.models import Citation, Meeting, Participation, SourceArticle
from people.names import normalize_name
from people.selectors import person_find_by_name, person_resolve
from tracker.common import partialdate


def _bound(value: str, field: str, day_of: Callable[[str], dt.date]) -> dt.date:
    """First or last day of a partial-date query value; 400 with the reason if it is not one."""
    from rest_framework.exceptions import ValidationError

    try:
        return day_of(partialdate.validate(value.strip()))
    except ValueError as exc:  # InvalidPartialDate, or a year the calendar cannot hold (0000)
        raise ValidationError({field: [str(exc)]}) from None


def participant_person_ids(value: str) -> list[uuid.UUID]:
    """Person ids for a participant filter value: an id (merges followed) or a name/alias."""
    try:
        resolved = person_resolve(uuid.UUID(value.strip()))
        return [resolved] if resolved else []
    except ValueError:
        return [p.pk for p in person_find_by_name(value)]


def _country_meetings(code: str) -> QuerySet:
    """Ids of meetings with a participant from country `code` (side, else the person's country)."""
    code = code.strip().upper()
    return Participation.objects.filter(
        Q(side=code) | Q(side="", person__country=code)
    ).values("meeting_id")


class MeetingFilter(django_filters.FilterSet):
    """Filters of /api/v1/meetings/. Multi-valued conditions use id subqueries, never joins
    over participants, so a meeting never appears twice in a page."""

    participant = django_filters.CharFilter(
        method="filter_participant",
        label="Participant: a person id (merged ids follow the merge) or a name/alias "
        "(accents, hyphens, spacing and case ignored). Repeat for meetings with all of them.",
    )
    country = django_filters.CharFilter(
        method="filter_country", label="ISO country code of any participant, e.g. KR."
    )
    country_pair = django_filters.CharFilter(
        method="filter_country_pair",
        label="Two ISO codes, e.g. KR,US: meetings with participants from both countries.",
    )
    date_from = django_filters.CharFilter(
        method="filter_date_from",
        label="YYYY[-MM[-DD]]: meetings whose whole (partial) date lies on or after the first "
        "day of this date. A meeting dated 2025-10 is inside 2025-10-01..2025-10-31.",
    )
    date_to = django_filters.CharFilter(
        method="filter_date_to",
        label="YYYY[-MM[-DD]]: meetings whose whole (partial) date lies on or before the last "
        "day of this date. Undated meetings are left out when a date bound is given.",
    )
    status = django_filters.MultipleChoiceFilter(choices=Meeting.Status.choices)
    mode = django_filters.MultipleChoiceFilter(choices=Meeting.Mode.choices)
    kind = django_filters.MultipleChoiceFilter(choices=Meeting.Kind.choices)
    topic = django_filters.CharFilter(method="filter_topic", label="A topic tag, exact.")
    location = django_filters.CharFilter(
        method="filter_location", label="Place name (substring) or ISO country code of the place."
    )
    occasion = django_filters.CharFilter(lookup_expr="icontains", label="e.g. APEC 2025 (substring).")
    q = django_filters.CharFilter(
        method="filter_q",
        label="Full-text search over title, summary and citation evidence (PostgreSQL full-text "
        "search, websearch syntax; substring match on SQLite).",
    )
    ordering = django_filters.ChoiceFilter(
        choices=[("date", "oldest first"), ("-date", "newest first (default)")],
        method="filter_noop",
        label="Order by date; applied by the cursor pagination.",
    )

    class Meta:
        model = Meeting
        fields = ["status", "mode", "kind", "occasion"]

    def filter_noop(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset

    def filter_participant(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        values = self.request.query_params.getlist("participant") if self.request else [value]
        for raw in values or [value]:
            ids = participant_person_ids(raw)
            cond = Q(person_id__in=ids)
            try:
                uuid.UUID(raw.strip())
            except ValueError:
                # An unresolved participant is data too: match the recorded name, normalised
                # as person names are (accents, hyphens, spacing and case ignored).
                cond |= Q(person__isnull=True, name_key=normalize_name(raw))
            queryset = queryset.filter(id__in=Participation.objects.filter(cond).values("meeting_id"))
        return queryset

    def filter_country(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.filter(id__in=_country_meetings(value))

    def filter_country_pair(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        from rest_framework.exceptions import ValidationError

        codes = [c for c in value.split(",") if c.strip()]
        if len(codes) != 2:
            raise ValidationError({"country_pair": ["Give two country codes, e.g. KR,US."]})
        for code in codes:
            queryset = queryset.filter(id__in=_country_meetings(code))
        return queryset

    def filter_date_from(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.filter(date_first__gte=_bound(value, "date_from", partialdate.first_day))

    def filter_date_to(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.filter(date_last__lte=_bound(value, "date_to", partialdate.last_day))

    def filter_topic(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        if connection.vendor == "postgresql":
            return queryset.filter(topics__contains=[value])
        # SQLite has no JSON containment; the quoted tag inside the JSON text is equivalent
        # for a list of strings.
        return queryset.filter(topics__icontains=f'"{value}"')

    def filter_location(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        value = value.strip()
        cond = Q(location_name__icontains=value)
        if len(value) == 2:
            cond |= Q(location_country__iexact=value)
        return queryset.filter(cond)

    def filter_q(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        value = value.strip()
        if not value:
            return queryset
        if connection.vendor == "postgresql":
            from django.contrib.postgres.search import SearchQuery, SearchVector
            from django.db.models import F, Func, JSONField, TextField, Value
            from django.db.models.functions import Cast

            query = SearchQuery(value, search_type="websearch", config="english")
            own = Meeting.objects.annotate(
                search=SearchVector("title", "summary", config="english")
            ).filter(search=query)
            # Only the sentences, not the JSON keys or offsets around them.
            texts = Func(
                F("evidence"), Value("$[*].text"), function="jsonb_path_query_array", output_field=JSONField()
            )
            cited = Citation.objects.annotate(
                search=SearchVector(Cast(texts, TextField()), config="english")
            ).filter(search=query)
            return queryset.filter(Q(id__in=own.values("id")) | Q(id__in=cited.values("meeting_id")))
        cited = Citation.objects.filter(evidence__icontains=value).values("meeting_id")
        return queryset.filter(
            Q(title__icontains=value) | Q(summary__icontains=value) | Q(id__in=cited)
        )


class ArticleFilter(django_filters.FilterSet):
    """Filters of /api/v1/articles/."""

    publisher = django_filters.CharFilter(lookup_expr="icontains")
    url = django_filters.CharFilter(method="filter_url", label="URL or canonical URL, exact.")
    meeting = django_filters.UUIDFilter(field_name="citations__meeting_id", label="Cited for this meeting.")

    class Meta:
        model = SourceArticle
        fields = ["publisher", "language", "wire_service"]

    def filter_url(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.filter(Q(url=value) | Q(canonical_url=value))
