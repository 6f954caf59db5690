"""The loopback test server of the ingestion tests: tracker.security.hostile_server's, reused."""
from tracker.security.hostile_server import HostileServer as LocalServer
from tracker.security.hostile_server import body as respond
from tracker.security.hostile_server import gzip_bomb, redirect
from tracker.security.hostile_server import stream as streamed

__all__ = ["LocalServer", "gzip_bomb", "redirect", "respond", "streamed"]
