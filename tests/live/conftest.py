"""Live-stream tests: real uvicorn servers (threads), SSE streams read as a browser would."""

import contextlib
import json
import queue
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import uvicorn

from app.main import create_app
from app.settings import Settings


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def serve(settings: Settings) -> Iterator[str]:
    """One app instance (``create_app``) served by uvicorn on a free port; yields its URL."""
    port = _free_port()
    config = uvicorn.Config(
        create_app(settings), host="127.0.0.1", port=port, log_level="warning", lifespan="on"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name=f"uvicorn-live-{port}", daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        assert thread.is_alive(), "uvicorn stopped while starting"
        assert time.monotonic() < deadline, "uvicorn did not start within 15 s"
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


class Stream:
    """An SSE stream read in a thread: ``next()`` returns the next message (or comment)."""

    def __init__(self, url: str, headers: dict[str, str] | None = None) -> None:
        self.messages: queue.Queue[dict[str, Any]] = queue.Queue()
        self._client = httpx.Client(timeout=httpx.Timeout(5, read=60))
        self._headers = {"Accept": "text/event-stream"} | (headers or {})
        self._url = url
        self.status: int | None = None
        self._response: httpx.Response | None = None
        self._opened = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        assert self._opened.wait(10), "stream did not open"

    def _run(self) -> None:
        try:
            with self._client.stream("GET", self._url, headers=self._headers) as response:
                self._response = response
                self.status = response.status_code
                self._opened.set()
                fields: dict[str, Any] = {}
                for line in response.iter_lines():
                    if line == "":
                        if fields:
                            if "data" in fields:
                                fields["data"] = json.loads(fields["data"])
                            self.messages.put(fields)
                        fields = {}
                    elif line.startswith(":"):
                        fields["comment"] = line[1:].strip()
                    else:
                        name, _, value = line.partition(":")
                        fields[name] = value.removeprefix(" ")
        except (httpx.HTTPError, RuntimeError):
            self._opened.set()

    def next(self, timeout: float = 5) -> dict[str, Any]:
        return self.messages.get(timeout=timeout)

    def close(self) -> None:
        if self._response is not None:
            # Shut the socket down: that ends the thread's blocking read at once (closing it
            # from this thread would leave the read waiting for the next message).
            sock = self._response.extensions["network_stream"].get_extra_info("socket")
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
        self._client.close()
        self._thread.join(timeout=5)
