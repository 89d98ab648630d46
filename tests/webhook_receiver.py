"""A webhook receiver for tests: a real HTTP server on 127.0.0.1 (the standard library's, in
threads of its own, so that the event loop under test and worker processes alike can reach it),
recording each request and answering with the statuses it is told, 200 after those."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass(frozen=True)
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


class Receiver:
    def __init__(self, statuses: tuple[int, ...] = (), *, hold_first: bool = False) -> None:
        self.requests: list[Received] = []
        self._statuses = list(statuses)
        # The first request is held unanswered until ``release()``: a sender stuck mid-way.
        self._hold_first = hold_first
        self._released = threading.Event()
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/hooks/caseimport"

    def release(self) -> None:
        self._released.set()

    async def wait_for(self, count: int, within: float = 30) -> list[Received]:
        """The requests, once ``count`` have arrived; AssertionError after ``within`` s."""
        deadline = time.monotonic() + within
        while len(self.requests) < count:
            assert time.monotonic() < deadline, f"{len(self.requests)} of {count} requests came"
            await asyncio.sleep(0.05)
        return list(self.requests)

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with receiver._lock:
                    first = not receiver.requests
                    receiver.requests.append(Received(self.path, dict(self.headers), body))
                    status = receiver._statuses.pop(0) if receiver._statuses else 200
                if first and receiver._hold_first:
                    receiver._released.wait(60)
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: object) -> None:
                pass  # quiet: the test asserts what came

        return Handler

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._released.set()
        self._server.shutdown()
        self._server.server_close()


@contextmanager
def receiving(statuses: tuple[int, ...] = (), *, hold_first: bool = False) -> Iterator[Receiver]:
    receiver = Receiver(statuses, hold_first=hold_first)
    receiver.start()
    try:
        yield receiver
    finally:
        receiver.stop()
