"""Reading a test queue on the real broker."""
from tracker.celery import app


def drain(queue: str) -> list[tuple[dict, list]]:
    """Take every message waiting in the queue off it; returns their (headers, positional args)."""
    out = []
    with app.connection_for_write() as conn:
        simple = conn.SimpleQueue(queue)
        try:
            while True:
                try:
                    message = simple.get(block=True, timeout=1)
                except simple.Empty:
                    return out
                args = message.payload[0] if isinstance(message.payload, list | tuple) else []
                out.append((dict(message.headers), list(args)))
                message.ack()
        finally:
            simple.close()
