"""Which `once_per_session` actions already ran in which session (thread-safe)."""

from __future__ import annotations

import threading
from collections import OrderedDict

__all__ = ["SessionStore"]

_RUNNING = "running"
_DONE = "done"


class SessionStore:
    """In-memory record of once-per-session actions, shared by a toolkit's tools.

    `claim()` is atomic: of several concurrent calls in one session exactly one gets
    `True`. A claim is then either kept (`finish(used=True)`: the API answered 2xx, or
    the outcome is unknown) or released (`used=False`: nothing was sent, or the API
    answered with an error status), so the visitor can try again.

    The store keeps at most `max_sessions` sessions (oldest forgotten first). For several
    processes, subclass it over a shared store (Redis, a database) with the same four
    methods.
    """

    def __init__(self, max_sessions: int = 100_000) -> None:
        self._lock = threading.Lock()
        self._sessions: OrderedDict[str, dict[str, str]] = OrderedDict()
        self._max = max_sessions

    def claim(self, session_id: str, action: str) -> bool:
        """Reserve the one call of `action` in `session_id`; False if taken."""
        with self._lock:
            actions = self._sessions.setdefault(session_id, {})
            self._sessions.move_to_end(session_id)
            if action in actions:
                return False
            actions[action] = _RUNNING
            while len(self._sessions) > self._max:
                self._sessions.popitem(last=False)
            return True

    def finish(self, session_id: str, action: str, *, used: bool) -> None:
        """Keep (`used=True`) or release the claim made by `claim()`."""
        with self._lock:
            actions = self._sessions.get(session_id)
            if actions is None:
                return
            if used:
                actions[action] = _DONE
            else:
                actions.pop(action, None)

    def has_run(self, session_id: str, action: str) -> bool:
        """True when `action` ran (or is running) in `session_id`."""
        with self._lock:
            return action in self._sessions.get(session_id, {})

    def reset(self, session_id: str | None = None) -> None:
        """Forget one session, or all of them."""
        with self._lock:
            if session_id is None:
                self._sessions.clear()
            else:
                self._sessions.pop(session_id, None)
