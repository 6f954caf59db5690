"""The headless-Chromium fixtures of tests/browser, for the stored-XSS test."""
from tests.browser.conftest import browser, page  # noqa: F401 - pytest fixtures
