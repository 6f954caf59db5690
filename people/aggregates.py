"""Pure folds of the person, organization and post streams into JSON state.

Person state::

    {"id", "name", "sort_name", "country", "external_ids": {scheme: value},
     "aliases": {alias_id: {"name", "kind", "language", "script", "source"}},
     "tenures": {tenure_id: {"post_id", "start", "end", "acting", "sources"}},
     "merged_into": person id | None,
     "absorbed": {loser id: {"alias_ids": [...], "tenure_ids": [...]}}}
"""

from __future__ import annotations

from typing import Any

from tracker.eventstore.api import Aggregate, register_aggregate

from .events import ORGANIZATION, PERSON, POST

ALIAS_FIELDS = ("name", "kind", "language", "script", "source")
TENURE_FIELDS = ("post_id", "start", "end", "acting", "sources")


def alias_entry(data: dict) -> dict:
    defaults = {"kind": "variant", "language": "", "script": "", "source": ""}
    return {k: data.get(k, defaults.get(k)) for k in ALIAS_FIELDS}


def tenure_entry(data: dict) -> dict:
    defaults: dict[str, Any] = {"start": "", "end": "", "acting": False, "sources": []}
    return {k: data.get(k, defaults.get(k)) for k in TENURE_FIELDS}


# --- person -------------------------------------------------------------------------------


def _registered(state: dict, data: dict, stored: Any) -> dict:
    state.update(
        id=str(stored.stream_id),
        name=data["name"],
        sort_name=data.get("sort_name", ""),
        country=data.get("country", ""),
        external_ids=dict(data.get("external_ids") or {}),
    )
    return state


def _renamed(state: dict, data: dict, _stored: Any) -> dict:
    state.update(name=data["name"], sort_name=data.get("sort_name", ""))
    return state


def _country_set(state: dict, data: dict, _stored: Any) -> dict:
    state["country"] = data["country"]
    return state


def _alias_added(state: dict, data: dict, _stored: Any) -> dict:
    state["aliases"][data["alias_id"]] = alias_entry(data)
    return state


def _alias_removed(state: dict, data: dict, _stored: Any) -> dict:
    state["aliases"].pop(data["alias_id"], None)
    return state


def _tenure_set(state: dict, data: dict, _stored: Any) -> dict:
    state["tenures"][data["tenure_id"]] = tenure_entry(data)
    return state


def _tenure_ended(state: dict, data: dict, _stored: Any) -> dict:
    if data["tenure_id"] in state["tenures"]:
        state["tenures"][data["tenure_id"]]["end"] = data["end"]
    return state


def _tenure_removed(state: dict, data: dict, _stored: Any) -> dict:
    state["tenures"].pop(data["tenure_id"], None)
    return state


def _external_id(state: dict, data: dict, _stored: Any) -> dict:
    if data["value"]:
        state["external_ids"][data["scheme"]] = data["value"]
    else:
        state["external_ids"].pop(data["scheme"], None)
    return state


def _merged_into(state: dict, data: dict, _stored: Any) -> dict:
    state["merged_into"] = data["into"]
    for tenure_id in data.get("tenure_ids", []):
        state["tenures"].pop(tenure_id, None)
    return state


def _absorbed(state: dict, data: dict, _stored: Any) -> dict:
    for alias in data.get("aliases", []):
        state["aliases"][alias["alias_id"]] = alias_entry(alias)
    for tenure in data.get("tenures", []):
        state["tenures"][tenure["tenure_id"]] = tenure_entry(tenure)
    state["absorbed"][data["from"]] = {
        "alias_ids": [a["alias_id"] for a in data.get("aliases", [])],
        "tenure_ids": [t["tenure_id"] for t in data.get("tenures", [])],
    }
    return state


def _unmerged(state: dict, data: dict, _stored: Any) -> dict:
    if state.get("id") == data["loser"]:
        state["merged_into"] = None
        for tenure in data.get("tenures", []):
            state["tenures"][tenure["tenure_id"]] = tenure_entry(tenure)
    else:
        for alias_id in data.get("alias_ids", []):
            state["aliases"].pop(alias_id, None)
        for tenure in data.get("tenures", []):
            state["tenures"].pop(tenure["tenure_id"], None)
        state["absorbed"].pop(data["loser"], None)
    return state


@register_aggregate
class PersonAggregate(Aggregate):
    stream_type = PERSON
    evolvers = {
        "PersonRegistered": _registered,
        "PersonRenamed": _renamed,
        "PersonCountrySet": _country_set,
        "AliasAdded": _alias_added,
        "AliasRemoved": _alias_removed,
        "TenureStarted": _tenure_set,
        "TenureEnded": _tenure_ended,
        "TenureCorrected": _tenure_set,
        "TenureRemoved": _tenure_removed,
        "ExternalIdRecorded": _external_id,
        "PersonMergedInto": _merged_into,
        "PersonAbsorbed": _absorbed,
        "PersonUnmerged": _unmerged,
    }
    # Tenures, merge links and absorbed records move between streams on merge, so a
    # single-stream revert must not set them back; names and aliases are safe to restore.
    revertible_fields = ("name", "sort_name", "country", "external_ids", "aliases")

    @classmethod
    def initial(cls) -> dict[str, Any]:
        return {
            "id": None,
            "name": "",
            "sort_name": "",
            "country": "",
            "external_ids": {},
            "aliases": {},
            "tenures": {},
            "merged_into": None,
            "absorbed": {},
        }


# --- organization and post ----------------------------------------------------------------


def _org_registered(state: dict, data: dict, stored: Any) -> dict:
    state.update(id=str(stored.stream_id), name=data["name"], country=data.get("country", ""))
    return state


def _org_renamed(state: dict, data: dict, _stored: Any) -> dict:
    state["name"] = data["name"]
    return state


@register_aggregate
class OrganizationAggregate(Aggregate):
    stream_type = ORGANIZATION
    evolvers = {"OrganizationRegistered": _org_registered, "OrganizationRenamed": _org_renamed}
    revertible_fields = ("name",)

    @classmethod
    def initial(cls) -> dict[str, Any]:
        return {"id": None, "name": "", "country": ""}


def _post_created(state: dict, data: dict, stored: Any) -> dict:
    state.update(
        id=str(stored.stream_id), title=data["title"], organization_id=data["organization_id"]
    )
    return state


def _post_retitled(state: dict, data: dict, _stored: Any) -> dict:
    state["title"] = data["title"]
    return state


@register_aggregate
class PostAggregate(Aggregate):
    stream_type = POST
    evolvers = {"PostCreated": _post_created, "PostRetitled": _post_retitled}
    revertible_fields = ("title",)

    @classmethod
    def initial(cls) -> dict[str, Any]:
        return {"id": None, "title": "", "organization_id": None}
