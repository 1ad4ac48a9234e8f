"""A bare TCP listener that records every connection made to it and answers none.

Tests that must prove nothing left the server point a connection at one and
assert afterwards that it heard nothing: a real socket, so no client-side
shortcut (a mock transport, a patched method) can hide a request that was sent.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager


class Listener:
    """Accepts on `host`:free port; `heard` holds the first bytes of each connection."""

    def __init__(self, host: str = "127.0.0.1") -> None:
        self._socket = socket.create_server((host, 0))
        self._socket.settimeout(0.05)
        self.host = host
        self.port = self._socket.getsockname()[1]
        self.heard: list[bytes] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                connection, _ = self._socket.accept()
            except TimeoutError:
                continue
            with connection:
                connection.settimeout(0.5)
                try:
                    self.heard.append(connection.recv(65536))
                except TimeoutError:
                    self.heard.append(b"")

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2)
        self._socket.close()


@contextmanager
def listening(host: str = "127.0.0.1") -> Iterator[Listener]:
    listener = Listener(host)
    try:
        yield listener
    finally:
        listener.close()
