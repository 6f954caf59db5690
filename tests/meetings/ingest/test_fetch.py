import time

import pytest

from meetings.ingest.decode import DecodeError, decode_utf8, decode_web
from meetings.ingest.feeds import FeedError, parse_feed
from meetings.ingest.fetch import FetchError, FetchLimits, fetch
from meetings.ingest.guard import BlockedAddress, checked_addresses
from meetings.ingest.html import extract_page
from tests.meetings.ingest.server import LocalServer, gzip_bomb, redirect, respond, streamed

LOCAL = FetchLimits(allow_networks=("127.0.0.1/32",), total_timeout=5, read_timeout=2)

PAGE = """<html><head><title>Cho meets Rubio</title>
<meta property="og:site_name" content="Example Wire"></head><body><nav>Home | World</nav>
<article><h1>Cho meets Rubio</h1><p>SEOUL, Aug. 1 (Example) -- Foreign Minister Cho Hyun held talks
with Secretary of State Marco Rubio in Washington on Thursday, the ministry said. The two discussed
the alliance, tariffs and North Korea over lunch at the State Department.</p>
<p>Posted : 2025-08-01</p></article><footer>Copyright</footer></body></html>"""


@pytest.fixture(scope="module")
def _module_server():
    s = LocalServer()
    yield s
    s.close()


@pytest.fixture
def server(_module_server):
    _module_server.routes.clear()
    _module_server.hits.clear()
    return _module_server


@pytest.mark.parametrize(
    "host",
    ["127.0.0.1", "2130706433", "0x7f.0.0.1", "0177.0.0.1", "::1", "::ffff:127.0.0.1",
     "169.254.169.254", "10.1.2.3", "192.168.0.1", "172.16.5.4", "fe80::1", "localhost", "0.0.0.0"],
)
def test_guard_refuses_internal_addresses_in_every_spelling(host):
    with pytest.raises(BlockedAddress):
        checked_addresses(host, 80)


def test_guard_allows_public_addresses_and_configured_networks():
    assert str(checked_addresses("93.184.216.34", 80)[0]) == "93.184.216.34"
    assert str(checked_addresses("127.0.0.1", 80, allow_networks=("127.0.0.1/32",))[0]) == "127.0.0.1"


def test_loopback_server_is_refused_without_the_setting(server):
    server.routes["/a"] = respond(PAGE)
    with pytest.raises(FetchError) as err:
        fetch(server.url("/a"))
    assert err.value.kind == "blocked"
    assert server.hits.get("/a") is None  # refused before any connection


def test_fetch_follows_redirects_and_extracts_the_article(server):
    server.routes["/old"] = redirect("/new")
    server.routes["/new"] = respond(PAGE)
    result = fetch(server.url("/old"), limits=LOCAL)
    assert result.url.endswith("/new")
    page = extract_page(decode_web(result.body, declared=result.charset)[0], url=result.url)
    assert page.title == "Cho meets Rubio"
    assert page.published == "2025-08-01"
    assert "Cho Hyun held talks" in page.text
    assert "Copyright" not in page.text and "Home | World" not in page.text


def test_redirect_to_a_blocked_address_is_refused(server):
    server.routes["/hop"] = redirect("http://127.0.0.2:9/secret")
    with pytest.raises(FetchError) as err:
        fetch(server.url("/hop"), limits=LOCAL)
    assert err.value.kind == "blocked"


def test_endless_redirects_stop(server):
    server.routes["/loop"] = redirect("/loop")
    with pytest.raises(FetchError) as err:
        fetch(server.url("/loop"), limits=LOCAL)
    assert err.value.kind == "too_many_redirects"
    assert server.hits["/loop"] == LOCAL.max_redirects + 1


def test_oversized_page_is_refused_without_reading_it_all(server):
    def fifty_mb():
        for _ in range(50 * 16):
            yield b"x" * 65536

    server.routes["/big"] = streamed(fifty_mb)
    with pytest.raises(FetchError) as err:
        fetch(server.url("/big"), limits=LOCAL)
    assert err.value.kind == "too_large"


def test_gzip_bomb_stops_at_the_decompressed_cap(server):
    bomb = gzip_bomb(20)
    assert len(bomb) < 100 * 1024
    server.routes["/bomb"] = streamed(lambda: iter([bomb]), encoding="gzip")
    with pytest.raises(FetchError) as err:
        fetch(server.url("/bomb"), limits=LOCAL)
    assert err.value.kind == "too_large"


def test_slow_drip_server_stops_at_the_deadline(server):
    server.routes["/drip"] = streamed(lambda: (b"<p>x</p>" for _ in range(1000)), delay=0.05)
    started = time.monotonic()
    with pytest.raises(FetchError) as err:
        fetch(server.url("/drip"), limits=FetchLimits(allow_networks=("127.0.0.1/32",), total_timeout=1))
    assert err.value.kind == "timeout"
    assert time.monotonic() - started < 5


def test_wrong_content_type_is_refused(server):
    server.routes["/img"] = respond(b"\x89PNG....", content_type="image/png")
    with pytest.raises(FetchError) as err:
        fetch(server.url("/img"), limits=LOCAL)
    assert err.value.kind == "bad_content_type"


def test_conditional_get_sends_validators_and_reports_not_modified(server):
    server.routes["/feed"] = respond(b"", status=304)
    result = fetch(server.url("/feed"), limits=LOCAL, etag='"v1"', last_modified="Fri, 10 Oct 2025 00:00:00 GMT")
    assert result.not_modified
    assert server.request_headers["/feed"]["If-None-Match"] == '"v1"'


def test_page_in_a_legacy_charset_is_decoded_from_the_header():
    text, enc = decode_web("Séoul — Chö".encode("latin-1", "replace"), declared="iso-8859-1")
    assert text.startswith("Séoul") and enc == "iso-8859-1"


def test_page_with_wrong_declared_charset_falls_back_to_meta_or_utf8():
    body = '<meta charset="utf-8"><p>서울 Seoul</p>'.encode()
    assert "서울" in decode_web(body, declared="ascii")[0]


def test_non_utf8_file_gets_a_clear_error():
    with pytest.raises(DecodeError, match=r"not valid UTF-8: byte 0xe9 at offset 1"):
        decode_utf8("Séoul".encode("latin-1"), what="seed.txt")


def test_control_characters_are_removed():
    assert decode_utf8(b"Seoul\x00\x07 talks\r\n") == "Seoul talks\n"


def test_broken_feed_xml_is_a_clear_error():
    with pytest.raises(FeedError):
        parse_feed(b"<rss><channel><item><title>unclosed")


def test_feed_keeps_the_publishers_utc_offset():
    rss = b"""<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>
    <item><title>A</title><link>https://example.org/a</link><guid>a-1</guid>
    <pubDate>Fri, 10 Oct 2025 07:30:00 +0900</pubDate></item></channel></rss>"""
    (entry,) = parse_feed(rss)
    assert entry.guid == "a-1"
    assert entry.published.isoformat() == "2025-10-10T07:30:00+09:00"  # not the UTC day before


class _KeepAlive:
    """An HTTP/1.1 server on a fixed port that counts the connections it accepted."""

    def __init__(self, port: int = 0) -> None:
        import threading
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        self.connections = 0
        self.sockets: list = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def setup(self) -> None:
                outer.connections += 1
                outer.sockets.append(self.request)
                super().setup()

            def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
                filler = "x" * 5000 if self.path.startswith("/big") else ""
                body = f"<html><body><article><p>{self.path}{filler}</p></article></body></html>".encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        ThreadingHTTPServer.allow_reuse_address = True
        self.httpd = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.port = self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self) -> None:
        """Stop, dropping the kept-alive connections too (as a restarted server has none)."""
        import socket

        self.httpd.shutdown()
        self.httpd.server_close()
        for sock in self.sockets:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass  # already closed by the client


def test_fetches_reuse_a_connection_and_a_restarted_server_gets_a_new_one():
    # given a keep-alive server
    server = _KeepAlive()
    try:
        # when two pages are fetched from it
        first = fetch(f"http://127.0.0.1:{server.port}/a", limits=LOCAL)
        second = fetch(f"http://127.0.0.1:{server.port}/b", limits=LOCAL)
        # then both came over one connection
        assert (first.body, second.body) == (b"<html><body><article><p>/a</p></article></body></html>",
                                             b"<html><body><article><p>/b</p></article></body></html>")
        assert server.connections == 1
        # when the server restarts on the same port (its connections gone) and a page is fetched
        port = server.port
        server.close()
        server = _KeepAlive(port)
        third = fetch(f"http://127.0.0.1:{port}/c", limits=LOCAL)
        # then it is fetched over a new connection
        assert third.body.endswith(b"<p>/c</p></article></body></html>") and server.connections == 1
    finally:
        server.close()


def test_a_response_left_unread_does_not_leave_its_connection_for_the_next_fetch():
    # given a keep-alive server and a page of it over the size cap, refused before its body is read
    server = _KeepAlive()
    try:
        with pytest.raises(FetchError, match="cap"):
            fetch(f"http://127.0.0.1:{server.port}/big", limits=FetchLimits(allow_networks=("127.0.0.1/32",), max_bytes=1000))
        # when the next page is fetched from it, then it is that page, whole (over a new connection)
        assert fetch(f"http://127.0.0.1:{server.port}/small", limits=LOCAL).body == (
            b"<html><body><article><p>/small</p></article></body></html>"
        )
        assert server.connections == 2
    finally:
        server.close()
