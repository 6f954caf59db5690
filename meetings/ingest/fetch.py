"""Fetching a URL safely: address guard on every hop, size cap, time cap, content-type check.

urllib3 is used directly so the connection goes to the address the guard checked (TLS still
verifies the certificate for the host name), redirects are followed by hand (each hop is
checked again), and the body is read in chunks so a 50 MB page or a gzip bomb stops at the
cap instead of filling memory. A slow-drip server stops at the overall deadline.
"""
from __future__ import annotations

import collections
import dataclasses
import threading
import time
from urllib.parse import urljoin, urlsplit

import certifi
import urllib3

from .guard import BlockedAddress, checked_addresses

USER_AGENT = "meeting-tracker/0.1 (+news ingestion; respects robots via feed registration)"
DEFAULT_TYPES = (
    "text/html",
    "application/xhtml+xml",
    "text/plain",
    "application/rss+xml",
    "application/atom+xml",
    "application/xml",
    "text/xml",
    "application/rdf+xml",
)


class FetchError(Exception):
    """A fetch failed for a reason worth showing a curator; `kind` groups the reasons."""

    def __init__(self, kind: str, message: str, *, retryable: bool = False) -> None:
        self.kind = kind
        self.retryable = retryable
        super().__init__(message)


@dataclasses.dataclass
class FetchResult:
    url: str  # final URL after redirects
    status: int
    content_type: str
    charset: str | None
    body: bytes
    etag: str | None = None
    last_modified: str | None = None

    @property
    def not_modified(self) -> bool:
        return self.status == 304


@dataclasses.dataclass(frozen=True)
class FetchLimits:
    max_bytes: int = 5 * 1024 * 1024
    connect_timeout: float = 5.0
    read_timeout: float = 15.0
    total_timeout: float = 30.0
    max_redirects: int = 5
    allow_networks: tuple[str, ...] = ()  # internal ranges exempt from the guard
    allowed_types: tuple[str, ...] = DEFAULT_TYPES


def _parse_content_type(value: str) -> tuple[str, str | None]:
    parts = [p.strip() for p in value.split(";")]
    charset = None
    for p in parts[1:]:
        if p.lower().startswith("charset="):
            charset = p.split("=", 1)[1].strip("\"' ") or None
    return parts[0].lower(), charset


POOLS_KEPT = 32  # per worker process: the hosts fetched most recently keep their connections


class _Pools:
    """Connection pools kept between fetches, one per (scheme, host, checked address, port,
    timeouts), the least recently used closed beyond POOLS_KEPT. A pool connects only to the
    address the guard checked, so reuse never skips the guard (it runs on every fetch and
    picks the pool). urllib3 pools are thread-safe and replace a connection the server closed."""

    def __init__(self) -> None:
        self._pools: collections.OrderedDict[tuple, urllib3.HTTPConnectionPool] = collections.OrderedDict()
        self._lock = threading.Lock()

    def get(self, scheme: str, host: str, ip: str, port: int, limits: FetchLimits) -> urllib3.HTTPConnectionPool:
        key = (scheme, host, ip, port, limits.connect_timeout, limits.read_timeout)
        with self._lock:
            pool = self._pools.pop(key, None) or _new_pool(scheme, host, ip, port, limits)
            self._pools[key] = pool
            while len(self._pools) > POOLS_KEPT:
                self._pools.popitem(last=False)[1].close()
            return pool

    def clear(self) -> None:
        with self._lock:
            while self._pools:
                self._pools.popitem()[1].close()


pools = _Pools()


def _new_pool(scheme: str, host: str, ip: str, port: int, limits: FetchLimits) -> urllib3.HTTPConnectionPool:
    timeout = urllib3.Timeout(connect=limits.connect_timeout, read=limits.read_timeout)
    if scheme == "https":
        return urllib3.HTTPSConnectionPool(
            ip, port, timeout=timeout, retries=False, server_hostname=host,
            assert_hostname=host, cert_reqs="CERT_REQUIRED", ca_certs=certifi.where(),
        )
    return urllib3.HTTPConnectionPool(ip, port, timeout=timeout, retries=False)


def fetch(
    url: str,
    *,
    limits: FetchLimits = FetchLimits(),
    etag: str | None = None,
    last_modified: str | None = None,
) -> FetchResult:
    """GET a URL within the limits; raises FetchError (or BlockedAddress, a FetchError cause)."""
    deadline = time.monotonic() + limits.total_timeout
    current = url
    for _hop in range(limits.max_redirects + 1):
        parts = urlsplit(current)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise FetchError("bad_url", f"only http(s) URLs can be fetched, not {current!r}")
        port = parts.port or (443 if parts.scheme == "https" else 80)
        try:
            addresses = checked_addresses(parts.hostname, port, allow_networks=limits.allow_networks)
        except BlockedAddress as exc:
            raise FetchError("blocked", str(exc)) from exc
        host_header = parts.netloc.rsplit("@", 1)[-1]
        headers = {"Host": host_header, "User-Agent": USER_AGENT, "Accept-Encoding": "gzip, deflate"}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        path = parts.path or "/"
        if parts.query:
            path += "?" + parts.query
        pool = pools.get(parts.scheme, parts.hostname, str(addresses[0]), port, limits)
        try:
            resp = pool.urlopen("GET", path, headers=headers, redirect=False, preload_content=False,
                                assert_same_host=False)
        except urllib3.exceptions.TimeoutError as exc:
            raise FetchError("timeout", f"timed out connecting to {parts.hostname}", retryable=True) from exc
        except urllib3.exceptions.HTTPError as exc:
            raise FetchError("network", f"network error fetching {current}: {exc}", retryable=True) from exc
        read_whole = False  # only a connection whose response was read to its end is reused
        try:
            if resp.status in (301, 302, 303, 307, 308):
                location = resp.headers.get("Location")
                if not location:
                    raise FetchError("http_error", f"redirect without a Location from {current}")
                current = urljoin(current, location)
                continue
            if resp.status == 304:
                read_whole = True  # a 304 has no body
                return FetchResult(current, 304, "", None, b"", etag, last_modified)
            if resp.status >= 400:
                raise FetchError(
                    "http_error", f"HTTP {resp.status} from {current}", retryable=resp.status >= 500 or resp.status == 429
                )
            content_type, charset = _parse_content_type(resp.headers.get("Content-Type", ""))
            if content_type and content_type not in limits.allowed_types:
                raise FetchError("bad_content_type", f"{current} is {content_type}, not a page or feed")
            declared = resp.headers.get("Content-Length")
            if declared and declared.isdigit() and int(declared) > limits.max_bytes:
                raise FetchError("too_large", f"{current} is {int(declared):,} bytes; the cap is {limits.max_bytes:,}")
            chunks: list[bytes] = []
            size = 0
            try:
                # read1 returns whatever has arrived, so a slow drip still meets the deadline check
                while chunk := resp.read1(64 * 1024, decode_content=True):
                    size += len(chunk)
                    if size > limits.max_bytes:
                        raise FetchError("too_large", f"{current} exceeds the {limits.max_bytes:,}-byte cap")
                    if time.monotonic() > deadline:
                        raise FetchError("timeout", f"{current} took longer than {limits.total_timeout:.0f}s", retryable=True)
                    chunks.append(chunk)
            except urllib3.exceptions.TimeoutError as exc:
                raise FetchError("timeout", f"timed out reading {current}", retryable=True) from exc
            except urllib3.exceptions.DecodeError as exc:
                raise FetchError("bad_encoding", f"corrupt compressed body from {current}: {exc}") from exc
            except urllib3.exceptions.HTTPError as exc:
                raise FetchError("network", f"network error reading {current}: {exc}", retryable=True) from exc
            read_whole = True
            return FetchResult(
                url=current,
                status=resp.status,
                content_type=content_type,
                charset=charset,
                body=b"".join(chunks),
                etag=resp.headers.get("ETag"),
                last_modified=resp.headers.get("Last-Modified"),
            )
        finally:
            if not read_whole:
                resp.close()  # a body left unread: the connection goes back closed, not reused
            resp.release_conn()
    raise FetchError("too_many_redirects", f"more than {limits.max_redirects} redirects from {url}")
