"""The stored-XSS test uses the session-wide Chromium fixtures of tests/conftest.py."""
