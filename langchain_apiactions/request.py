"""A request rendered from an action: what goes on the wire and how it is shown.

Built once per call by the pipeline's render step (`langchain_apiactions.call`), from the
templates' (sent, shown) pairs; the auth flow returns a new one with its credential on.
Needs no LangChain and no network.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from langchain_apiactions.redact import SecretMasker

__all__ = ["RenderedRequest"]


@dataclass(frozen=True)
class RenderedRequest:
    """One call's request, as sent and as shown (secrets `***`, context values as written).

    The `display_*` forms are the only ones that reach the artifact, events, logs and the
    command line; `url`, `headers` and `body` are sent and never shown.
    """

    method: str
    url: str
    headers: Mapping[str, str]
    body: bytes | None
    display_url: str
    display_headers: Mapping[str, str]
    display_body_text: str | None = field(default=None, repr=False)
    # The values the templates were rendered with (inputs, built-ins, context): the
    # button is built from them and the response's fields.
    values: Mapping[str, Any] = field(default_factory=dict, repr=False)
    # Masks this call's secrets (the toolkit's and its `${context.NAME}` values) wherever
    # text is shown, and its rendered URL and headers wherever they are quoted.
    masker: SecretMasker = field(default_factory=SecretMasker, repr=False)
    # The idempotency key sent (`idempotency_key:`), and the header that carries it.
    idempotency_key: str | None = None
    idempotency_header: str | None = None

    def __repr__(self) -> str:
        return f"RenderedRequest({self.method} {self.display_url})"

    @property
    def display_body(self) -> str | None:
        """The body as shown (secrets masked, `{context.NAME}` as written), or None."""
        if self.display_body_text is None:
            return None
        return self.masker.mask(self.display_body_text)

    def with_header(self, name: str, sent: str | None, shown: str) -> RenderedRequest:
        """A copy with header `name` set (replacing any of the same name, in any case).

        `sent=None` sets only the shown form (a credential not known yet).
        """
        lower = name.lower()
        headers = {k: v for k, v in self.headers.items() if k.lower() != lower}
        if sent is not None:
            headers[name] = sent
        display = {k: v for k, v in self.display_headers.items() if k.lower() != lower}
        display[name] = shown
        return replace(self, headers=headers, display_headers=display)

    def with_query(self, pair: str, shown: str) -> RenderedRequest:
        """A copy with one more `key=value` query pair (before any fragment)."""
        return replace(
            self, url=_add_query(self.url, pair), display_url=_add_query(self.display_url, shown)
        )


def _add_query(url: str, pair: str) -> str:
    base, hash_, fragment = url.partition("#")
    base += ("&" if "?" in base else "?") + pair
    return base + hash_ + fragment
