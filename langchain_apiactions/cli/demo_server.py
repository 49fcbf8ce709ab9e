"""The demo store API: orders, products, tickets, newsletter and cancellation, on loopback."""

from __future__ import annotations

import contextlib
import json
import threading
import urllib.parse
from typing import Any

from langchain_apiactions.cli.local_server import JsonHandler, LoopbackServer

__all__ = ["DemoStoreServer"]

ORDERS: dict[str, dict[str, Any]] = {
    "12345": {
        "id": "12345",
        "status": "Shipped",
        "estimated_delivery": "2026-12-01",
        "tracking": {"carrier": "UPS", "number": "1Z999AA10123456784"},
        "items": [{"sku": "RUN-42", "name": "Trail running shoes", "qty": 1}],
        "internal_notes": "customer since 2019; ignore",
    },
    "67890": {"id": "67890", "status": "Processing", "estimated_delivery": None, "tracking": None},
}
PRODUCTS = [
    {"name": "Trail running shoes", "price": 89.0, "availability": "in stock", "sku": "RUN-42"},
    {"name": "Road running shoes", "price": 119.0, "availability": "2 left", "sku": "RUN-07"},
    {"name": "Running socks (3 pack)", "price": 15.0, "availability": "in stock", "sku": "SOC-3"},
    {"name": "Rain jacket", "price": 149.0, "availability": "out of stock", "sku": "JKT-1"},
]


class DemoStoreServer(LoopbackServer):
    """A tiny store API; requires `Authorization: Bearer <api_key>`."""

    def __init__(self, api_key: str, port: int = 0) -> None:
        self.api_key = api_key
        self.tickets = 1000
        self.requests: list[tuple[str, str]] = []
        self._bodies: list[str] = []
        self._lock = threading.Lock()
        outer = self

        class Handler(JsonHandler):
            def _route(self) -> None:
                raw = self.read_body()
                try:
                    body = json.loads(raw) if raw else None
                except ValueError:
                    self.send_json(400, {"message": "the body is not valid JSON"})
                    return
                with outer._lock:
                    outer.requests.append((self.command, self.path))
                    if body is not None:
                        outer._bodies.append(json.dumps(body, ensure_ascii=False))
                if self.headers.get("Authorization") != f"Bearer {outer.api_key}":
                    self.send_json(401, {"message": "Invalid or missing API key"})
                    return
                parts = urllib.parse.urlsplit(self.path)
                path = [urllib.parse.unquote(p) for p in parts.path.split("/") if p]
                query = dict(urllib.parse.parse_qsl(parts.query))
                self.send_json(*outer.handle(self.command, path, query, body))

            do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _route

        super().__init__(Handler, port)

    def handle(
        self, method: str, path: list[str], query: dict[str, str], body: Any
    ) -> tuple[int, Any]:
        if method == "GET" and len(path) == 2 and path[0] == "orders":
            order = ORDERS.get(path[1].lstrip("#"))
            if order is None:
                return 404, {"message": f"Order {path[1]} not found"}
            return 200, {"order": order}
        if method == "GET" and path == ["products"]:
            terms = [t for t in query.get("search", "").lower().split() if len(t) > 2]
            found = [
                p for p in PRODUCTS if any(t.rstrip("s") in str(p["name"]).lower() for t in terms)
            ]
            return 200, found
        if method == "POST" and path == ["tickets"]:
            ticket = (body or {}).get("ticket") or {}
            if not (ticket.get("requester") or {}).get("email"):
                return 422, {"message": "requester.email is required"}
            self.tickets += 1
            return 201, {
                "ticket": {"id": self.tickets, "status": "open", "subject": ticket.get("subject")}
            }
        if method == "POST" and path == ["newsletter"]:
            return 200, {"subscribed": True, "email": (body or {}).get("email")}
        if method == "POST" and len(path) == 3 and path[0] == "orders" and path[2] == "cancel":
            if path[1] not in ORDERS:
                return 404, {"message": f"Order {path[1]} not found"}
            return 200, {"cancelled": True, "refund": "full refund to the original payment method"}
        return 404, {"message": f"No route for {method} /{'/'.join(path)}"}

    def take_bodies(self) -> list[str]:
        """The JSON bodies received since the last call."""
        with self._lock:
            bodies, self._bodies = self._bodies, []
        return bodies


DEFAULT_PORT = 8765
"""Where `python -m langchain_apiactions.cli.demo_server` listens unless told: the README's
and the docs' action files point at it."""


def main(argv: list[str] | None = None) -> int:
    """`python -m langchain_apiactions.cli.demo_server [--port PORT] [--api-key KEY]`
    (PORT defaults to `DEFAULT_PORT`)."""
    import argparse

    parser = argparse.ArgumentParser(description="Serve the demo store API on loopback.")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT)
    parser.add_argument("--api-key", default="demo")
    ns = parser.parse_args(argv)
    server = DemoStoreServer(ns.api_key, port=ns.port)
    print(f"Demo store API on {server.url} (Authorization: Bearer <--api-key>); Ctrl-C stops it.")
    with contextlib.suppress(KeyboardInterrupt):
        server.serve_forever()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
