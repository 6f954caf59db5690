"""Admin login attempts are throttled per username and IP address."""
import pytest
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.test import Client, override_settings

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _clear_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def curator(db):
    return get_user_model().objects.create_user(username="carla", password="right-pw-123", is_staff=True,
                                                is_superuser=True)


def _login(client: Client, password: str, ip: str = "203.0.113.7"):
    return client.post("/admin/login/?next=/admin/", {"username": "carla", "password": password},
                       REMOTE_ADDR=ip)


@override_settings(LOGIN_FAILURE_LIMIT=3, LOGIN_LOCKOUT_SECONDS=60)
def test_after_the_limit_even_the_right_password_is_refused(curator):
    client = Client()
    # given: three failed attempts from one address
    for _ in range(3):
        assert _login(client, "wrong").status_code == 200  # the form again, with an error
    # when: the right password is tried from the same address
    response = _login(client, "right-pw-123")
    # then: it is refused and no session is opened
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session


@override_settings(LOGIN_FAILURE_LIMIT=3, LOGIN_LOCKOUT_SECONDS=60)
def test_the_lockout_is_per_address_and_clears_after_success(curator):
    client = Client()
    for _ in range(3):
        _login(client, "wrong", ip="203.0.113.7")
    # when: the same user logs in from another address
    response = _login(client, "right-pw-123", ip="198.51.100.9")
    # then: it works there
    assert response.status_code == 302 and client.session.get("_auth_user_id") == str(curator.pk)


@override_settings(LOGIN_FAILURE_LIMIT=3, LOGIN_LOCKOUT_SECONDS=60)
def test_fewer_failures_than_the_limit_do_not_lock_and_success_resets(curator):
    from tracker.security import throttle

    client = Client()
    for _ in range(2):
        _login(client, "wrong")
    assert throttle.failures("carla", "203.0.113.7") == 2
    assert _login(client, "right-pw-123").status_code == 302
    # then: the counter was cleared by the successful login
    assert throttle.failures("carla", "203.0.113.7") == 0


@override_settings(LOGIN_FAILURE_LIMIT=2, LOGIN_LOCKOUT_SECONDS=60)
def test_the_lock_ends_when_the_window_passes(curator):
    from tracker.security import throttle

    for _ in range(2):
        _login(Client(), "wrong")
    assert throttle.is_locked("carla", "203.0.113.7")
    # when: the window passes (the cache entry expires)
    cache.delete(throttle._key("carla", "203.0.113.7"))
    # then: the right password works again
    assert _login(Client(), "right-pw-123").status_code == 302
