"""Officials in the admin: persons, aliases, organizations, posts and tenures, changed via people/commands.py."""
from __future__ import annotations

import uuid
from typing import Any

from django import forms
from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from tracker.admin_base import (
    CommandAdmin,
    CommandForm,
    ReadOnlyInline,
    merge_action,
    next_version,
    unmerge_action,
)
from tracker.eventstore.api import Context

from . import commands
from .models import Alias, Organization, Person, Post, Tenure


class AliasInline(ReadOnlyInline):
    model = Alias
    fields = ("name", "kind", "language", "script", "source")
    readonly_fields = fields


class TenureInline(ReadOnlyInline):
    model = Tenure
    fields = ("post", "start", "end", "acting", "sources")
    readonly_fields = fields


class PersonForm(CommandForm):
    add_alias = forms.CharField(required=False, help_text="Add another name this person is known by.")
    add_alias_kind = forms.ChoiceField(choices=Alias.Kind.choices, initial=Alias.Kind.VARIANT, required=False)
    tenure_post = forms.ModelChoiceField(
        queryset=Post.objects.select_related("organization"), required=False,
        help_text="Start a tenure: the post held.",
    )
    tenure_start = forms.CharField(required=False, help_text="YYYY[-MM[-DD]]")
    tenure_end = forms.CharField(required=False, help_text="YYYY[-MM[-DD]]; blank while in office.")
    tenure_acting = forms.BooleanField(required=False)


@admin.register(Person)
class PersonAdmin(CommandAdmin):
    form = PersonForm
    list_display = ("name", "sort_name", "country", "merged_into", "version", "updated_at")
    list_filter = ("country", ("merged_into", admin.EmptyFieldListFilter))
    search_fields = ("name", "sort_name", "aliases__name")
    readonly_fields = ("external_ids", "merged_into", "version", "created_at", "updated_at")
    inlines = [AliasInline, TenureInline]
    actions = ["merge", "unmerge"]

    def get_fields(self, request: HttpRequest, obj: Person | None = None):
        editable = ["name", "sort_name", "country", "add_alias", "add_alias_kind"]
        if obj is None:
            return editable
        return [*editable, "tenure_post", "tenure_start", "tenure_end", "tenure_acting", *self.readonly_fields]

    def get_readonly_fields(self, request: HttpRequest, obj: Person | None = None):
        return self.readonly_fields if obj is not None else ()

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return super().get_queryset(request).select_related("merged_into")

    def run_create(self, request: HttpRequest, data: dict, context: Context) -> uuid.UUID:
        return commands.person_register(
            name=data["name"], sort_name=data.get("sort_name") or "", country=data.get("country") or "",
            aliases=[data["add_alias"]] if data.get("add_alias") else [], context=context,
        )

    def run_change(self, request, obj, data, changed, expected_version, context):
        version = expected_version
        if "name" in changed or "sort_name" in changed:
            version = next_version(version, commands.person_rename(
                person_id=obj.pk, name=data["name"], sort_name=data.get("sort_name") or "",
                keep_old_as_alias="name" in changed, expected_version=version, context=context,
            ))
        if "country" in changed:
            version = next_version(version, commands.person_country_set(
                person_id=obj.pk, country=data.get("country") or "", expected_version=version, context=context,
            ))
        if data.get("add_alias"):
            version = next_version(version, commands.person_alias_add(
                person_id=obj.pk, name=data["add_alias"], kind=data.get("add_alias_kind") or "variant",
                expected_version=version, context=context,
            ))
        if data.get("tenure_post"):
            version = next_version(version, commands.person_tenure_start(
                person_id=obj.pk, post_id=data["tenure_post"].pk, start=data.get("tenure_start") or "",
                end=data.get("tenure_end") or "", acting=bool(data.get("tenure_acting")),
                expected_version=version, context=context,
            ))
        return version

    @admin.action(description="Merge the selected persons into one", permissions=["change"])
    def merge(self, request: HttpRequest, queryset: QuerySet):
        return merge_action(
            self, request, queryset, noun="persons",
            keep_label="Keep this one (the others' names become its aliases)",
            choice_label=lambda p: f"{p} ({p.country or '—'})", merge=_merge_person,
        )

    @admin.action(description="Un-merge (give a merged person their own record back)", permissions=["change"])
    def unmerge(self, request: HttpRequest, queryset: QuerySet):
        return unmerge_action(self, request, queryset, noun="persons", unmerge=commands.person_unmerge)


def _merge_person(loser: Person, winner: Person, context: Context) -> Any:
    return commands.person_merge(
        loser_id=loser.pk, winner_id=winner.pk, loser_expected_version=loser.version,
        winner_expected_version=winner.version, context=context,
    )


@admin.register(Organization)
class OrganizationAdmin(CommandAdmin):
    list_display = ("name", "country", "version")
    list_filter = ("country",)
    search_fields = ("name",)

    def get_fields(self, request: HttpRequest, obj: Organization | None = None):
        return ["name", "country"] if obj is None else ["name", "country", "version"]

    def get_readonly_fields(self, request: HttpRequest, obj: Organization | None = None):
        return () if obj is None else ("country", "version")  # no command changes a country

    def run_create(self, request: HttpRequest, data: dict, context: Context) -> uuid.UUID:
        return commands.organization_register(name=data["name"], country=data.get("country") or "", context=context)

    def run_change(self, request, obj, data, changed, expected_version, context):
        if "name" in changed:
            return commands.organization_rename(
                organization_id=obj.pk, name=data["name"], expected_version=expected_version, context=context
            )
        return []


@admin.register(Post)
class PostAdmin(CommandAdmin):
    list_display = ("title", "organization", "version")
    list_filter = ("organization__country",)
    search_fields = ("title", "organization__name")
    list_select_related = ("organization",)

    def get_fields(self, request: HttpRequest, obj: Post | None = None):
        return ["title", "organization"] if obj is None else ["title", "organization", "version"]

    def get_readonly_fields(self, request: HttpRequest, obj: Post | None = None):
        return () if obj is None else ("organization", "version")  # a post never moves

    def run_create(self, request: HttpRequest, data: dict, context: Context) -> uuid.UUID:
        return commands.post_create(title=data["title"], organization_id=data["organization"].pk, context=context)

    def run_change(self, request, obj, data, changed, expected_version, context):
        if "title" in changed:
            return commands.post_retitle(
                post_id=obj.pk, title=data["title"], expected_version=expected_version, context=context
            )
        return []
