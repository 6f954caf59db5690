"""Serializers of the people API."""
from __future__ import annotations

from rest_framework import serializers

from people.models import Alias, Organization, Person, Post, Tenure


class AliasSerializer(serializers.ModelSerializer):
    """Another name of a person."""

    class Meta:
        model = Alias
        fields = ["id", "name", "kind", "language", "script", "source"]


class TenureSerializer(serializers.ModelSerializer):
    """A post held from `start` to `end` (partial dates)."""

    post_id = serializers.UUIDField()
    title = serializers.CharField(source="post.title")
    organization = serializers.CharField(source="post.organization.name")
    organization_id = serializers.UUIDField(source="post.organization_id")
    sources = serializers.ListField(child=serializers.CharField())

    class Meta:
        model = Tenure
        fields = ["id", "post_id", "title", "organization", "organization_id", "start", "end", "acting", "sources"]


class PersonSerializer(serializers.ModelSerializer):
    """An official with aliases, tenures and external ids."""

    aliases = AliasSerializer(many=True)
    tenures = TenureSerializer(many=True)
    external_ids = serializers.DictField(child=serializers.CharField())
    merged_into = serializers.UUIDField(source="merged_into_id", allow_null=True)

    class Meta:
        model = Person
        fields = [
            "id", "name", "sort_name", "country", "external_ids", "aliases", "tenures",
            "merged_into", "version", "created_at", "updated_at",
        ]


class OrganizationSerializer(serializers.ModelSerializer):
    """A government body."""

    class Meta:
        model = Organization
        fields = ["id", "name", "country", "version"]


class PostSerializer(serializers.ModelSerializer):
    """A title at an organization."""

    organization_id = serializers.UUIDField()
    organization = serializers.CharField(source="organization.name")

    class Meta:
        model = Post
        fields = ["id", "title", "organization_id", "organization", "version"]


class CounterpartSerializer(serializers.Serializer):
    """Someone a person met: how often, and the first and last (partial) dates."""

    person_id = serializers.UUIDField()
    name = serializers.CharField()
    country = serializers.CharField()
    meetings = serializers.IntegerField(help_text="Number of current meetings together.")
    first_date = serializers.CharField(allow_blank=True, help_text="Earliest meeting date (partial).")
    last_date = serializers.CharField(allow_blank=True, help_text="Latest meeting date (partial).")
