"""The address guard, beyond tests/meetings/ingest/test_fetch.py: more spellings, DNS answers, redirects.

DNS is simulated by replacing socket.getaddrinfo for one name (a test double for a DNS answer);
every other name resolves normally.
"""
import socket

import pytest

from meetings.ingest.fetch import FetchError, FetchLimits, fetch
from meetings.ingest.guard import BlockedAddress, checked_addresses
from tracker.security.hostile_server import HostileServer, body, redirect

LOCAL = FetchLimits(allow_networks=("127.0.0.1/32",), total_timeout=5, read_timeout=2)


@pytest.fixture
def dns(monkeypatch):
    """`dns["name"] = ["ip", ...]` makes getaddrinfo answer those addresses for that name."""
    answers: dict[str, list[str]] = {}
    real = socket.getaddrinfo

    def fake(host, port, *args, **kwargs):
        if host in answers:
            return [
                (socket.AF_INET6 if ":" in ip else socket.AF_INET, socket.SOCK_STREAM, 6, "",
                 (ip, port, 0, 0) if ":" in ip else (ip, port))
                for ip in answers[host]
            ]
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", fake)
    return answers


@pytest.mark.parametrize("host", [
    "0", "127.1", "0x7f000001", "017700000001", "::", "[::ffff:127.0.0.1]", "::ffff:a9fe:a9fe",
    "::ffff:0:7f00:1", "::127.0.0.1", "64:ff9b::a9fe:a9fe", "2002:7f00:1::", "fd00::1", "100.64.0.1",
    "224.0.0.1", "255.255.255.255", "198.18.0.1", "localhost.",
])
def test_more_internal_spellings_are_refused(host):
    # given: an internal address in an unusual spelling / when/then: the guard refuses it
    with pytest.raises(BlockedAddress):
        checked_addresses(host, 80)


@pytest.mark.parametrize("answer", [["10.0.0.5"], ["169.254.169.254"], ["::1"], ["::ffff:192.168.1.1"],
                                    ["93.184.216.34", "127.0.0.1"]])
def test_dns_names_resolving_to_internal_addresses_are_refused(dns, answer):
    # given: a public-looking name whose DNS answer includes an internal address
    dns["news.example"] = answer
    # when/then: it is refused, even when another answer is public
    with pytest.raises(BlockedAddress):
        checked_addresses("news.example", 443)


def test_a_name_with_only_public_answers_is_allowed(dns):
    dns["news.example"] = ["93.184.216.34", "2606:2800:220:1:248:1893:25c8:1946"]
    assert [str(a) for a in checked_addresses("news.example", 443)] == dns["news.example"]


def test_fetch_connects_to_the_checked_address_not_a_second_lookup(dns):
    # given: a name whose (allowed) answer is the loopback test server
    with HostileServer({"/a": body(b"<p>ok</p>")}) as server:
        dns["wire.example"] = ["127.0.0.1"]
        # when: it is fetched
        result = fetch(f"http://wire.example:{server.port}/a", limits=LOCAL)
    # then: the request reached the checked address and kept the name in the Host header
    assert result.body == b"<p>ok</p>" and result.url.startswith("http://wire.example:")


@pytest.mark.parametrize("target", [
    "http://2130706434/", "http://0x7f.0.0.2/", "http://[::ffff:127.0.0.2]/", "http://[::1]:9/",
    "http://169.254.169.254/latest/meta-data/", "http://internal.example/", "http://10.0.0.1:8080/",
])
def test_redirects_to_internal_addresses_are_refused(dns, target):
    # given: an allowed page that redirects to an internal address (any spelling, or a name)
    dns["internal.example"] = ["10.1.2.3"]
    with HostileServer({"/hop": redirect(target)}) as server:
        # when/then: the redirect hop is refused before connecting
        with pytest.raises(FetchError) as err:
            fetch(server.url("/hop"), limits=LOCAL)
    assert err.value.kind == "blocked"


@pytest.mark.parametrize("url", ["file:///etc/passwd", "gopher://127.0.0.1/", "ftp://example.org/",
                                 "http:///nohost", "javascript:alert(1)"])
def test_non_http_urls_are_refused(url):
    with pytest.raises(FetchError) as err:
        fetch(url, limits=LOCAL)
    assert err.value.kind in ("bad_url", "blocked")
