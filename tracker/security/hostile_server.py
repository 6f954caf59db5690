"""A loopback HTTP server that answers with hostile pages and feeds (for the sweep and tests)."""
from __future__ import annotations

import threading
import time
import zlib
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

Route = Callable[[BaseHTTPRequestHandler], None]


class HostileServer:
    """Serve `routes` ({path: route}) on 127.0.0.1 and an ephemeral port, in a daemon thread."""

    def __init__(self, routes: dict[str, Route] | None = None) -> None:
        self.routes = routes if routes is not None else {}
        self.hits: dict[str, int] = {}  # requests per path
        self.request_headers: dict[str, dict[str, str]] = {}  # last request's headers per path
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
                path = self.path.split("?", 1)[0]
                server.hits[path] = server.hits.get(path, 0) + 1
                server.request_headers[path] = dict(self.headers.items())
                route = server.routes.get(path)
                if route is None:
                    self.send_error(404)
                    return
                try:
                    route(self)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the fetcher hung up at its cap: that is the point

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def __enter__(self) -> HostileServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def body(
    data: bytes | str, *, status: int = 200, content_type: str = "text/html; charset=utf-8",
    headers: dict | None = None,
) -> Route:
    data = data.encode() if isinstance(data, str) else data

    def route(h: BaseHTTPRequestHandler) -> None:
        h.send_response(status)
        h.send_header("Content-Type", content_type)
        h.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            h.send_header(k, v)
        h.end_headers()
        h.wfile.write(data)

    return route


def stream(chunks: Callable[[], Iterator[bytes]], *, content_type: str = "text/html", delay: float = 0.0,
           encoding: str | None = None) -> Route:
    """A body of unknown length (no Content-Length), optionally dripped slowly."""

    def route(h: BaseHTTPRequestHandler) -> None:
        h.send_response(200)
        h.send_header("Content-Type", content_type)
        if encoding:
            h.send_header("Content-Encoding", encoding)
        h.send_header("Connection", "close")
        h.end_headers()
        for chunk in chunks():
            h.wfile.write(chunk)
            h.wfile.flush()
            if delay:
                time.sleep(delay)

    return route


def redirect(to: str) -> Route:
    def route(h: BaseHTTPRequestHandler) -> None:
        h.send_response(302)
        h.send_header("Location", to)
        h.send_header("Content-Length", "0")
        h.end_headers()

    return route


def gzip_bomb(decompressed_mb: int) -> bytes:
    """A gzip body of ~1 KB per MB that inflates to `decompressed_mb` MB of zeros (built in chunks)."""
    z = zlib.compressobj(9, zlib.DEFLATED, 31)  # wbits 31: gzip container
    zeros = b"\0" * (1024 * 1024)
    out = [z.compress(zeros) for _ in range(decompressed_mb)]
    out.append(z.flush())
    return b"".join(out)


def billion_laughs(levels: int = 10) -> bytes:
    """The classic entity-expansion feed: 10 levels of 10 references is 10^10 'lol's."""
    ents = ['<!ENTITY lol0 "lol">'] + [
        f'<!ENTITY lol{i} "{("&lol" + str(i - 1) + ";") * 10}">' for i in range(1, levels)
    ]
    return (
        '<?xml version="1.0"?>\n<!DOCTYPE rss [\n' + "\n".join(ents) + "\n]>\n"
        '<rss version="2.0"><channel><title>t</title><item><title>&lol'
        + str(levels - 1) + ';</title><link>https://example.org/a</link><guid>laughs-1</guid>'
        "<description>x</description></item></channel></rss>"
    ).encode()


def external_entity_feed() -> bytes:
    """XXE: an entity pointing at a local file must never be read into an entry."""
    return (
        b'<?xml version="1.0"?>\n<!DOCTYPE rss [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>\n'
        b'<rss version="2.0"><channel><title>t</title><item><title>&xxe;</title>'
        b"<link>https://example.org/x</link><guid>xxe-1</guid></item></channel></rss>"
    )
