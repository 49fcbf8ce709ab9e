"""Soak: one call's deadline must end only its own call's connection (issue 9).

Each round, 8 GETs get a 503 with `Retry-After: 1`, retry, and time out (the retry is
answered after 3 s, the deadline is 1.6 s) while 16 POSTs (answered after 1.5 s) share
the pool; urllib3 hands the GETs' first connections to POSTs while the GETs wait. Every
POST that reached the server must come back `ok: true`.

    .venv/bin/python benchmarks/soak.py [rounds]

Exits 1 if any POST that reached the server failed. Loopback only.
"""

from __future__ import annotations

import sys
import threading
import time
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from apiserver import ApiServer, Recorded, Reply

from langchain_apiactions import ApiActionsToolkit


def _invoke(tool: Any, args: dict[str, Any], session: str) -> Any:
    call = {"name": tool.name, "args": args, "id": "c", "type": "tool_call"}
    return tool.invoke(call, config={"configurable": {"session_id": session}}).artifact


def soak(rounds: int = 4, gets: int = 8, posts: int = 16) -> tuple[int, int, int]:
    """(POSTs sent, POSTs that reached the server, of those the ones that came back ok)."""
    ThreadingHTTPServer.request_queue_size = 128
    api = ApiServer().start()
    lock = threading.Lock()
    seen: set[str] = set()

    def flaky(rec: Recorded) -> Reply:
        with lock:
            first = rec.query not in seen
            seen.add(rec.query)
        if first:
            return Reply(503, {"message": "busy"}, headers={"Retry-After": "1"})
        return Reply(200, {"status": "late"}, delay=3)

    api.route("GET", "/flaky", flaky)
    api.route("POST", "/orders", Reply(201, {"status": "created"}, delay=1.5))
    actions = [
        {
            "name": "Check",
            "when_to_use": "Use when checking the status.",
            "method": "GET",
            "url": api.url + "/flaky?id={id}",
            "inputs": [{"name": "id", "required": True}],
            "timeout": 1.6,
        },
        {
            "name": "Order",
            "when_to_use": "Use when placing an order.",
            "method": "POST",
            "url": api.url + "/orders",
            "inputs": [{"name": "n", "type": "number", "required": True}],
            "body": {"n": "{n}"},
            "timeout": 8,
        },
    ]
    results: dict[int, Any] = {}
    with ApiActionsToolkit(actions=actions, allowed_networks=["127.0.0.0/8"]) as tk:
        get, post = tk.get_tools()

        def do_post(n: int) -> None:
            results[n] = _invoke(post, {"n": n}, f"p{n}")

        for r in range(rounds):
            getters = [
                threading.Thread(target=_invoke, args=(get, {"id": f"{r}-{i}"}, "g"))
                for i in range(gets)
            ]
            for t in getters:
                t.start()
            time.sleep(0.2)  # the 503s are read; their connections are back in the pool
            posters = [
                threading.Thread(target=do_post, args=(r * posts + i,)) for i in range(posts)
            ]
            for t in posters:
                t.start()
            for t in getters + posters:
                t.join()
    api.stop()
    reached = {rec.json["n"] for rec in api.requests if rec.method == "POST"}
    ok = sum(1 for n in reached if results[n]["ok"])
    return rounds * posts, len(reached), ok


if __name__ == "__main__":
    sent, reached, ok = soak(int(sys.argv[1]) if len(sys.argv) > 1 else 4)
    print(f"POSTs sent {sent}, reached the server {reached}, came back ok: true {ok}/{reached}")
    sys.exit(0 if ok == reached else 1)
