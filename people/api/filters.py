"""Filters of the people API."""
from __future__ import annotations

import django_filters
from django.db.models import QuerySet

from people.models import Organization, Person, Post
from people.selectors import person_find_by_name


class PersonFilter(django_filters.FilterSet):
    """Filters of /api/v1/people/."""

    name = django_filters.CharFilter(
        method="filter_name",
        label="Canonical name or any alias; accents, hyphens, spacing and case are ignored "
        "(e.g. 'park yoonjoo' finds 'Park Yoon-joo'). Merged records resolve to the survivor.",
    )
    country = django_filters.CharFilter(lookup_expr="iexact")
    wikidata = django_filters.CharFilter(
        method="filter_wikidata", label="Wikidata QID in the external ids, e.g. Q123."
    )

    class Meta:
        model = Person
        fields = ["country"]

    def filter_name(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.filter(pk__in=[p.pk for p in person_find_by_name(value)])

    def filter_wikidata(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.filter(external_ids__wikidata=value.strip())


class OrganizationFilter(django_filters.FilterSet):
    """Filters of /api/v1/organizations/."""

    name = django_filters.CharFilter(lookup_expr="icontains")
    country = django_filters.CharFilter(lookup_expr="iexact")

    class Meta:
        model = Organization
        fields = ["country"]


class PostFilter(django_filters.FilterSet):
    """Filters of /api/v1/posts/."""

    title = django_filters.CharFilter(lookup_expr="icontains")
    organization = django_filters.UUIDFilter(field_name="organization_id")
    country = django_filters.CharFilter(field_name="organization__country", lookup_expr="iexact")

    class Meta:
        model = Post
        fields = ["organization"]
