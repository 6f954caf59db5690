"""Events of the feed stream."""
from tracker.eventstore.api import DomainEvent, event


@event("FeedRegistered")
class FeedRegistered(DomainEvent):
    url: str
    title: str = ""
    publisher: str = ""
    interval_minutes: int = 30


@event("FeedRevised")
class FeedRevised(DomainEvent):
    changes: dict  # any of url, title, publisher, interval_minutes, active
