"""A worker process for the store-limit tests: takes counters or rate-limit slots.

    python limits_worker.py STORE_URL take SESSION LIMIT TRIES
    python limits_worker.py STORE_URL rate NAME LIMIT WINDOW TRIES
    python limits_worker.py STORE_URL secret

Prints one JSON line: how many were granted (or the secret's hex digest).
"""

from __future__ import annotations

import hashlib
import json
import sys
from concurrent.futures import ThreadPoolExecutor

from langchain_apiactions.session_store import session_store_from_url


def main(argv: list[str]) -> int:
    url, what, *rest = argv
    store = session_store_from_url(url)
    if what == "secret":
        print(json.dumps(hashlib.sha256(store.secret()).hexdigest()))
        return 0
    if what == "take":
        session, limit, tries = rest[0], int(rest[1]), int(rest[2])

        def one(_: int) -> bool:
            return store.take(session, [(session + ":A", limit), ("*", limit + 5)]) is None

    else:
        name, limit, window, tries = rest[0], int(rest[1]), float(rest[2]), int(rest[3])

        def one(_: int) -> bool:
            return store.rate(name, limit, window) == 0.0

    with ThreadPoolExecutor(4) as pool:
        granted = sum(pool.map(one, range(tries)))
    store.close()
    print(json.dumps(granted))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
