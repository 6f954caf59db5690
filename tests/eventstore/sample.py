"""A tiny aggregate used only by the event-store tests."""
from tracker.eventstore.api import Aggregate, DomainEvent, event, register_aggregate, upcaster


@event("SampleNamed", schema_version=2)
class SampleNamed(DomainEvent):
    name: str
    language: str = "en"


@upcaster("SampleNamed", 1)
def _sample_named_v1_to_v2(data: dict) -> dict:
    # v1 had no language; the old payloads were all English.
    return {**data, "language": "en"}


def _named(state: dict, data: dict, _stored: object) -> dict:
    state.update(name=data["name"], language=data["language"])
    return state


@register_aggregate
class Sample(Aggregate):
    stream_type = "sample"
    evolvers = {"SampleNamed": _named}
    revertible_fields = ("name", "language")
