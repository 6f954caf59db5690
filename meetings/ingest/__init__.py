"""Getting articles in: safe fetching, decoding, HTML extraction and feed polling.

Django-independent helpers (settings are passed in by the callers in meetings/services).
"""
