"""Browser tests use the session-wide Chromium fixtures of tests/conftest.py."""
