"""Sending requests: the guarded session, the network policy, retries and the deadline.

Every request of a toolkit goes through one `requests.Session` whose adapter:

* resolves the host itself (under the call's deadline) and refuses, before connecting,
  any address that the `NetworkPolicy` does not allow, then connects to exactly the
  address it checked (no second DNS lookup, so no DNS-rebinding window), on every
  attempt and redirect hop;
* retries idempotent methods only (urllib3's `Retry`), never past the call's deadline;
* never uses a proxy or `.netrc` (`trust_env = False`): a proxy would connect on our
  behalf to addresses the policy cannot see.

A watchdog shuts the socket the call holds at its deadline (and only that one), so a
server that trickles bytes cannot hold a call past it. The threads (watchdog, resolver,
async pool) belong to the toolkit's `CallThreads` and stop at `close()`.

One concept per module:

- `policy`: which addresses may be reached (`NetworkPolicy`, `address_kind`);
- `threads`: the toolkit's threads and each call's deadline (`CallThreads`, the watchdog);
- `transport`: the guarded adapter, connections, retries (`build_session`);
- `sending`: one request, its redirects and capped read, failures as data (`send`).

Like the file format, this subpackage needs no LangChain.
"""

from __future__ import annotations

from langchain_apiactions.network.policy import NetworkPolicy, address_kind
from langchain_apiactions.network.sending import MAX_REDIRECTS, HttpResult, send
from langchain_apiactions.network.threads import Attempt, CallThreads, release
from langchain_apiactions.network.transport import (
    IDEMPOTENT,
    INTERNALS,
    RETRY_STATUSES,
    USER_AGENT,
    DeadlineRetry,
    GuardedAdapter,
    GuardedHTTPConnection,
    GuardedHTTPSConnection,
    build_session,
    default_retry,
    missing_internals,
)

__all__ = [
    "IDEMPOTENT",
    "INTERNALS",
    "MAX_REDIRECTS",
    "RETRY_STATUSES",
    "USER_AGENT",
    "Attempt",
    "CallThreads",
    "DeadlineRetry",
    "GuardedAdapter",
    "GuardedHTTPConnection",
    "GuardedHTTPSConnection",
    "HttpResult",
    "NetworkPolicy",
    "address_kind",
    "build_session",
    "default_retry",
    "missing_internals",
    "release",
    "send",
]
