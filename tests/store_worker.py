"""A worker process for the session store tests: calls a once-per-session action.

    python store_worker.py STORE_URL API_URL SESSION [SESSION ...]
    python store_worker.py --die-mid-call STORE_URL API_URL SESSION

Prints one JSON line: {session: ok/skipped/error}.
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

from langchain_apiactions import ApiActionsToolkit

ACTIONS = """
actions:
  - name: Welcome_Coupon
    when_to_use: Use when the visitor asks for their one welcome coupon code.
    method: POST
    url: {api}/coupon
    body: {{session: "{{session_id}}", pid: {pid}}}
    once_per_session: true
"""


def main(argv: list[str]) -> int:
    die = argv[0] == "--die-mid-call"
    if die:
        argv = argv[1:]
    store_url, api, *sessions = argv
    toolkit = ApiActionsToolkit(
        actions=ACTIONS.format(api=api, pid=os.getpid()),
        allowed_networks=["127.0.0.0/8"],
        session_store=store_url,
    )
    tool = toolkit.get_tool("Welcome_Coupon")
    if die:
        # Claimed and sent; the process dies before the answer is recorded.
        assert toolkit.session_store.claim(sessions[0], "Welcome_Coupon")
        prepared = tool.prepare({}, sessions[0])
        threading.Thread(target=tool.pipeline.send, args=(prepared,), daemon=True).start()
        time.sleep(0.5)  # the request is on its way; the answer is slow
        os.write(1, b"claimed\n")
        os._exit(3)

    def one(session: str) -> tuple[str, str]:
        msg = tool.invoke(
            {"name": tool.name, "args": {}, "id": "c", "type": "tool_call"},
            config={"configurable": {"session_id": session}},
        )
        art = msg.artifact
        state = "ok" if art["ok"] else ("skipped" if art["skipped"] else "error:" + art["error"])
        return session, state

    with ThreadPoolExecutor(8) as pool:
        results = dict(pool.map(one, sessions))
    toolkit.close()
    print(json.dumps(results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
