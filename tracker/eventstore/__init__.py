"""The append-only event log every app writes through.

Import the public surface from `tracker.eventstore.api` (this package's `__init__` stays
empty so it can load before the app registry is ready).
"""
