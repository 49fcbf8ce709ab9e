"""The call steps of the repeat-safety options, backed by the session store.

In the order a call of the pipeline (`call.py`) meets them (each is skipped when the
action does not use it):

1. render: `key_for()`, the idempotency key (sent in its header on every attempt).
2. `cache_slot()` and `cached()`: a live cached answer ends the call (nothing sent,
   nothing counted).
3. `admit()`: the session's budgets (`max_calls_per_session` of the action and of the
   toolkit) and the action's shared `rate_limit`; over one, nothing is sent
   (`CallLimitError`, `RateLimitedError`).
4. claim: the once-per-session claim is made with the idempotency key; settle:
   `claim_outcome()`: with a key the claim is kept (used) on 2xx, released on a 4xx
   other than 409/425/429 (the API refused it), and otherwise held for a retry of the
   same call with the same key. A claim refused gives the counted call back.
5. send: `fetch_pages()`, further pages within the one deadline.
6. outcome: `remember()`, a 2xx answer goes into the cache.

Store failures fail closed where sending could do harm (budgets, rate limits, the
idempotency secret: nothing is sent) and open for the cache (a miss).
"""

from __future__ import annotations

import json
import logging
import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from langchain_apiactions.config import ApiAction
from langchain_apiactions.errors import CallLimitError, RateLimitedError, SessionStoreError
from langchain_apiactions.idempotency import cache_key, idempotency_key
from langchain_apiactions.network import HttpResult
from langchain_apiactions.pagination import (
    PageLinkRefused,
    Pages,
    items_of,
    next_request_url,
    next_target,
)
from langchain_apiactions.result import ArtifactPages, parse_body
from langchain_apiactions.session_store import BaseSessionStore
from langchain_apiactions.templating import CONTEXT_PREFIX

__all__ = ["CacheSlot", "CallRepeats"]

logger = logging.getLogger("langchain_apiactions")

# Answers after which the same call may be tried again with the same key: a conflict
# (the first attempt still running), too early, too many requests.
RETRY_WITH_KEY = frozenset({409, 425, 429})
TOOLKIT_COUNTER = "*"
# A page is not requested with less than this left of the deadline.
MIN_PAGE_SECONDS = 0.05


@dataclass(frozen=True)
class CacheSlot:
    """Where one call's answer is cached: the session (None: shared) and the key."""

    scope: str | None
    key: str


def _seconds(wait: float) -> str:
    return f"{max(1, math.ceil(wait))} s"


class CallRepeats:
    """The repeat-safety steps of one action's calls (see the module docstring)."""

    def __init__(
        self,
        action: ApiAction,
        store: BaseSessionStore,
        toolkit_max_calls: int | None = None,
    ) -> None:
        self.action = action
        self.store = store
        self.toolkit_max_calls = toolkit_max_calls
        self._counters: list[tuple[str, int]] = []
        if action.max_calls_per_session is not None:
            self._counters.append(("a:" + action.name, action.max_calls_per_session))
        if toolkit_max_calls is not None:
            self._counters.append((TOOLKIT_COUNTER, toolkit_max_calls))
        # Whether any step has work to do: a call that uses none of them pays one check.
        self.active = bool(
            self._counters
            or action.rate_limit is not None
            or action.idempotency_key is not None
            or action.cache is not None
            or action.pagination is not None
        )

    # ------------------------------------------------------------------ 1. keys
    def key_for(self, session_id: str, values: Mapping[str, Any]) -> str | None:
        """The idempotency key of this call (None when the action sends none): from the
        session, the action, its inputs' values and its trusted context values.

        Raises:
            SessionStoreError: the store's secret cannot be read (send nothing).
        """
        if self.action.idempotency_key is None:
            return None
        inputs = {i.name: values.get(i.name) for i in self.action.inputs}
        context = {k: v for k, v in values.items() if k.startswith(CONTEXT_PREFIX)}
        return idempotency_key(self.store.secret(), session_id, self.action.name, inputs, context)

    def cache_slot(
        self, session_id: str, method: str, url: str, headers: Mapping[str, str]
    ) -> CacheSlot | None:
        """Where the answer of this rendered request is cached (None: not cached).

        Raises:
            SessionStoreError: the store's secret cannot be read.
        """
        cache = self.action.cache
        if cache is None:
            return None
        key = cache_key(self.store.secret(), method, url, headers)
        return CacheSlot(session_id if cache.scope == "session" else None, key)

    # ------------------------------------------------------------------ 2. cache
    def cached(self, slot: CacheSlot | None) -> dict[str, Any] | None:
        """The cached answer of this call (`status_code`, `data`, `missing_fields`,
        `pagination`), or None."""
        if slot is None:
            return None
        try:
            raw = self.store.cache_get(slot.scope, slot.key)
        except SessionStoreError as e:
            logger.warning("%s: the cache could not be read: %s", self.action.name, e)
            return None
        if raw is None:
            return None
        try:
            answer = json.loads(raw)
        except ValueError:
            return None
        return answer if isinstance(answer, dict) else None

    # ------------------------------------------------------------------ 3. budgets
    def admit(self, session_id: str) -> None:
        """Count this call against the session's budgets and the rate limit.

        Raises:
            CallLimitError: a budget is used up (nothing counted).
            RateLimitedError: the rate limit is reached (nothing counted).
            SessionStoreError: the store cannot be used (send nothing).
        """
        action = self.action
        if self._counters:
            full = self.store.take(session_id, self._counters)
            if full is not None:
                if full == TOOLKIT_COUNTER:
                    what = f"the limit of {self.toolkit_max_calls} API calls per session"
                else:
                    what = f"the limit of {action.max_calls_per_session} calls per session"
                raise CallLimitError(f"{what} was reached; nothing was sent")
        rate = action.rate_limit
        if rate is not None:
            try:
                wait = self.store.rate("rate:" + action.name, rate.calls, rate.seconds)
            except SessionStoreError:
                self.give_back(session_id)
                raise
            if wait > 0:
                self.give_back(session_id)
                raise RateLimitedError(
                    f"rate limit of {rate} reached; nothing was sent; try again in {_seconds(wait)}"
                )

    def give_back(self, session_id: str) -> None:
        """Undo `admit()`'s counting for a call that then sent nothing."""
        if not self._counters:
            return
        try:
            self.store.give_back(session_id, [name for name, _ in self._counters])
        except SessionStoreError as e:
            logger.warning("%s: could not give back a counted call: %s", self.action.name, e)

    # ------------------------------------------------------------------ 4. claim
    @staticmethod
    def claim_outcome(
        status: int | None, maybe_sent: bool, key: str | None
    ) -> Literal["used", "hold", "release"]:
        """What becomes of a once-per-session claim after the answer."""
        answered_2xx = status is not None and 200 <= status < 300
        if key is None:  # today's rule: used by a 2xx or an unknown outcome
            return "used" if answered_2xx or (status is None and maybe_sent) else "release"
        if answered_2xx:
            return "used"
        if status is not None and 400 <= status < 500 and status not in RETRY_WITH_KEY:
            return "release"  # the API refused it: the visitor may try again
        return "hold"  # unknown, 5xx, 409/425/429, or nothing sent after a held try

    # ------------------------------------------------------------------ 5. pages
    def fetch_pages(
        self,
        first: HttpResult,
        first_url: str,
        deadline: float,
        send_page: Callable[[str, float], HttpResult],
    ) -> tuple[HttpResult, ArtifactPages | None]:
        """The items of up to `max_pages` pages as one JSON list body, and the summary
        for the artifact (None when the action does not paginate or the first answer is
        not a page of items)."""
        pagination = self.action.pagination
        if pagination is None or first.status is None or not 200 <= first.status < 300:
            return first, None
        body = parse_body(first.body)
        page_items = items_of(body, pagination.items)
        if page_items is None:
            return first, None
        pages = Pages(pagination.max_items)
        pages.add(page_items)
        current, http = first.final_url or first_url, first
        elapsed = first.elapsed_ms
        while True:
            try:
                link = next_target(pagination, body, http.headers, current, pages.pages - 1)
            except (TypeError, ValueError):
                link = None
            if link is None or not page_items:
                break
            if pages.pages >= pagination.max_pages or pages.full:
                pages.more = True
                break
            try:
                target = next_request_url(first_url, current, link)
            except PageLinkRefused as e:
                pages.more, pages.stopped = True, str(e)
                break
            remaining = deadline - time.monotonic()
            if remaining < MIN_PAGE_SECONDS:
                pages.more, pages.stopped = True, "the call's deadline was reached"
                break
            http = send_page(target, remaining)
            elapsed += http.elapsed_ms
            if http.error is not None or http.status is None or not 200 <= http.status < 300:
                pages.more = True
                pages.stopped = http.error or f"page {pages.pages + 1} answered HTTP {http.status}"
                break
            body = parse_body(http.body)
            page_items = items_of(body, pagination.items)
            if page_items is None:
                pages.more, pages.stopped = True, f"page {pages.pages + 1} holds no list of items"
                break
            current = http.final_url or target
            pages.add(page_items)
        combined = HttpResult(
            status=first.status,
            headers={"Content-Type": "application/json"},
            # ASCII escapes: a lone surrogate from a page (`"\ud800"`) cannot be UTF-8;
            # read back, it is cleaned like any body's.
            body=json.dumps(pages.items).encode("ascii"),
            elapsed_ms=round(elapsed, 1),
            final_url=current,
        )
        summary = pages.summary()
        return combined, ArtifactPages(
            pages=summary["pages"],
            items=summary["items"],
            at_least=summary["at_least"],
            truncated=summary["truncated"],
            stopped=summary["stopped"],
            note=pages.note(),
        )

    # ------------------------------------------------------------------ 6. cache
    def remember(self, slot: CacheSlot | None, answer: Mapping[str, Any]) -> None:
        """Cache a 2xx answer for the action's `ttl`."""
        if slot is None or self.action.cache is None:
            return
        try:
            value = json.dumps(answer, ensure_ascii=False, default=str).encode("utf-8")
            self.store.cache_put(slot.scope, slot.key, value, self.action.cache.ttl)
        except (SessionStoreError, ValueError) as e:
            logger.warning("%s: the answer could not be cached: %s", self.action.name, e)
