"""`{% broker_status as broker %}` for the admin home: is the broker up, how much is parked."""
from django import template

from tracker.reliability.dispatch import broker_reachable, undelivered_count

register = template.Library()


@register.simple_tag
def broker_status() -> dict:
    return {"reachable": broker_reachable(), "parked": undelivered_count()}
