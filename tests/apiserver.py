"""A small threaded HTTP server on loopback that records every request it receives."""

from __future__ import annotations

import json
import socket
import threading
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Recorded:
    method: str
    path: str  # raw path, as sent (percent-encoding kept)
    query: str
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def query_pairs(self) -> list[tuple[str, str]]:
        return urllib.parse.parse_qsl(self.query, keep_blank_values=True)


@dataclass
class Reply:
    status: int = 200
    body: Any = None  # dict/list -> JSON; str/bytes -> raw
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    trickle: float | None = None  # seconds between bytes


Handler = Callable[[Recorded], Reply]


class _Server(ThreadingHTTPServer):
    # The default backlog (5) resets connections when dozens of calls start at once.
    request_queue_size = 128


class ApiServer:
    """Routes by (method, path-without-query); records everything."""

    def __init__(self) -> None:
        self.requests: list[Recorded] = []
        self.routes: dict[tuple[str, str], Handler | Reply | list[Reply]] = {}
        self.connections = 0
        outer = self

        class _Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def setup(self) -> None:
                super().setup()
                outer.connections += 1

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                path, _, query = self.path.partition("?")
                rec = Recorded(self.command, path, query, dict(self.headers.items()), body)
                outer.requests.append(rec)
                route = (
                    outer.routes.get((self.command, path))
                    or outer.routes.get(("*", path))
                    or outer.routes.get(("*", "*"))
                )
                if route is None:
                    reply = Reply(404, {"message": f"no route {self.command} {path}"})
                elif isinstance(route, Reply):
                    reply = route
                elif isinstance(route, list):
                    reply = route.pop(0) if len(route) > 1 else route[0]
                else:
                    reply = route(rec)
                if reply.delay:
                    time.sleep(reply.delay)
                payload = reply.body
                if isinstance(payload, (dict, list)) or (payload is None and reply.status != 204):
                    data = json.dumps(payload if payload is not None else {}).encode()
                    ctype = "application/json"
                elif isinstance(payload, str):
                    data = payload.encode()
                    ctype = "text/plain; charset=utf-8"
                elif payload is None:
                    data = b""
                    ctype = ""
                else:
                    data = payload
                    ctype = "application/octet-stream"
                try:
                    self.send_response(reply.status)
                    headers = (
                        {"Content-Type": ctype, **reply.headers} if ctype else dict(reply.headers)
                    )
                    for k, v in headers.items():
                        self.send_header(k, v)
                    if "Content-Length" not in reply.headers and reply.status != 204:
                        self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    if reply.trickle is not None:
                        for i in range(len(data)):
                            self.wfile.write(data[i : i + 1])
                            self.wfile.flush()
                            time.sleep(reply.trickle)
                    else:
                        self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _handle

        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.daemon_threads = True
        self._server.handle_error = lambda request, client_address: None  # type: ignore[method-assign]
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def route(self, method: str, path: str, reply: Handler | Reply | list[Reply]) -> None:
        self.routes[(method, path)] = reply

    def start(self) -> ApiServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    @property
    def last(self) -> Recorded:
        return self.requests[-1]


class ConnectionRecorder:
    """A bare TCP listener that only counts connection attempts (for refused-address tests)."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.sock = socket.socket(family, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((host, port))  # port: e.g. where a stopped server listened
        self.sock.listen(16)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.accepted = 0
        self._stop = False
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        while not self._stop:
            try:
                conn, _ = self.sock.accept()
            except (TimeoutError, OSError):
                continue
            self.accepted += 1
            conn.close()

    def close(self) -> None:
        self._stop = True
        self._thread.join(1)
        self.sock.close()
