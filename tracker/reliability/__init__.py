"""Reliability drivers (issue 6): a soak over real HTTP and fault injection.

`python -m tracker.reliability` (or `make reliability`) runs them against a scratch
database and prints one line per figure; `tests/reliability/` runs short versions.
The package is also a small Django app: the admin home says when the broker is
unreachable, and enqueueing after a commit survives a broker outage (`dispatch`).
"""
