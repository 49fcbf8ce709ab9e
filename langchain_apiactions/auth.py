"""Authentication: the `auth:` block (its models and checks) and how it is put on a request.

Four kinds, each declared per action or in `defaults:`:

```yaml
auth: {type: bearer, token: "${API_TOKEN}"}
auth: {type: basic, username: "${API_USER}", password: "${API_PASSWORD}"}
auth: {type: api_key, in: header, name: X-API-Key, value: "${API_KEY}"}  # header|query|cookie
auth: {type: oauth2_client_credentials, token_url: https://auth.example.com/oauth/token,
       client_id: "${CLIENT_ID}", client_secret: "${CLIENT_SECRET}", scope: orders.read}
```

Every credential is a secret reference (`${NAME}`), never a value written in the file, so
it is resolved, masked and kept like any other secret.

Putting a credential on a request is one flow for every kind, modelled on httpx's
`Auth.auth_flow`: `CompiledAuth.credential()` says where the credential goes and how it
is shown (one `Credential`, applied to both forms of the request at once), and
`CompiledAuth.auth_flow()` is a generator that yields the authenticated request, is sent
the status the API answered, and may yield one more request: after a 401 to an OAuth2
token, the same request with a fresh token. A credential known when the request is
rendered (bearer, basic, API key) is put on by the render step, so that the request shown
before sending is final; the flow then yields it as it is. This module knows nothing
about the network: the OAuth2 token comes from the `tokens` callable the caller passes
(`oauth2.TokenCache`).
"""

from __future__ import annotations

import base64
import re
import urllib.parse
from collections.abc import Callable, Generator, Mapping
from dataclasses import dataclass
from typing import Annotated, Any, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

from langchain_apiactions.errors import Problem
from langchain_apiactions.numbers import number_as_text
from langchain_apiactions.redact import MASK
from langchain_apiactions.request import RenderedRequest

__all__ = [
    "ApiKeyAuth",
    "AuthConfig",
    "BasicAuth",
    "BearerAuth",
    "CompiledAuth",
    "Credential",
    "OAuth2ClientCredentials",
    "compile_auth",
    "normalise_auth",
]

# `${NAME}`, the whole value. (`${context.NAME}` joins once trusted context exists.)
# `${NAME}` from the environment, or `${context.NAME}` from the run's trusted context.
_REF_RE = re.compile(r"^\$\{((?:context\.)?[A-Za-z_][A-Za-z0-9_]*)\}$")
_HEADER_NAME_RE = re.compile(r"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$")
_TYPE_ALIASES = {
    "apikey": "api_key",
    "api_key": "api_key",
    "bearer": "bearer",
    "bearer_token": "bearer",
    "basic": "basic",
    "http_basic": "basic",
    "oauth2": "oauth2_client_credentials",
    "oauth2_client_credentials": "oauth2_client_credentials",
    "client_credentials": "oauth2_client_credentials",
}
# Parameters of the token request that `token_params` cannot replace.
_RESERVED_TOKEN_PARAMS = frozenset(
    {"grant_type", "client_id", "client_secret", "scope", "audience"}
)


def numbers_as_text(values: Mapping[Any, Any]) -> dict[str, Any]:
    """`values` with text keys, and numbers written as YAML numbers turned into their text
    by the package's one rule (`numbers.number_as_text`: `1` and `1.0` are sent as `1`);
    anything else is left to validation."""
    return {str(k): number_as_text(x) for k, x in values.items()}


class _AuthModel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class BearerAuth(_AuthModel):
    """`Authorization: Bearer <token>`."""

    type: Literal["bearer"] = Field(description="bearer")
    token: str = Field(description='The token, a secret: `"${API_TOKEN}"`.')


class BasicAuth(_AuthModel):
    """HTTP Basic: `Authorization: Basic base64(username:password)`."""

    type: Literal["basic"] = Field(description="basic")
    username: str = Field(description='The user name, a secret: `"${API_USER}"`.')
    password: str = Field("", description="The password, a secret (empty when omitted).")


class ApiKeyAuth(_AuthModel):
    """An API key in a header, a query parameter or a cookie."""

    type: Literal["api_key"] = Field(description="api_key")
    in_: Literal["header", "query", "cookie"] = Field(
        "header", alias="in", description="Where the key goes: header, query or cookie."
    )
    name: str = Field(description="The header, query parameter or cookie name.")
    value: str = Field(description='The key, a secret: `"${API_KEY}"`.')

    @field_validator("in_", mode="before")
    @classmethod
    def _lower_in(cls, v: Any) -> Any:
        return v.strip().lower() if isinstance(v, str) else v


class OAuth2ClientCredentials(_AuthModel):
    """OAuth2 client credentials grant (RFC 6749 section 4.4); the token is cached."""

    type: Literal["oauth2_client_credentials"] = Field(description="oauth2_client_credentials")
    token_url: str = Field(description="The token endpoint (https), written in the file.")
    client_id: str = Field(description='The client id, a secret: `"${CLIENT_ID}"`.')
    client_secret: str = Field(description='The client secret, a secret: `"${CLIENT_SECRET}"`.')
    scope: str | None = Field(None, description="Scopes, space-separated (or a list).")
    audience: str | None = Field(None, description="The `audience` parameter (Auth0 and others).")
    token_params: dict[str, str] = Field(
        default_factory=dict, description="Extra parameters of the token request."
    )
    client_auth: Literal["basic", "form"] = Field(
        "basic",
        description="How the client authenticates: HTTP Basic (RFC 6749's default) or "
        "`client_id`/`client_secret` form fields.",
    )

    @field_validator("scope", mode="before")
    @classmethod
    def _scope(cls, v: Any) -> Any:
        if isinstance(v, (list, tuple)):
            return " ".join(str(s) for s in v)
        return v

    @field_validator("token_params", mode="before")
    @classmethod
    def _params(cls, v: Any) -> Any:
        if v is None:
            return {}
        if isinstance(v, Mapping):
            return numbers_as_text(v)
        return v

    @property
    def scope_key(self) -> str:
        """The scopes, sorted (the cache key does not depend on their order)."""
        return " ".join(sorted(set((self.scope or "").split())))


# `tokens(rejected)`: a valid access token; `rejected` is one the API just answered 401 to.
TokenSource = Callable[[Union[str, None]], str]  # noqa: UP007 (a runtime alias on 3.10)

AuthConfig = Annotated[
    Union[BearerAuth, BasicAuth, ApiKeyAuth, OAuth2ClientCredentials],  # noqa: UP007
    Field(discriminator="type"),
]


def normalise_auth(value: Any) -> Any:
    """Lower-case the `type` and accept a few spellings (`apiKey`, `oauth2`...)."""
    if value is False or value is None:
        return None
    if isinstance(value, str) and value.strip().lower() in ("none", ""):
        return None
    if isinstance(value, Mapping) and isinstance(value.get("type"), str):
        key = re.sub(r"[\s\-]+", "_", value["type"].strip()).lower()
        return {**value, "type": _TYPE_ALIASES.get(key, key)}
    return value


# --------------------------------------------------------------------------- compiled


@dataclass(frozen=True)
class CompiledAuth:
    """An `auth` block checked at load time: which secrets it uses and where it goes."""

    config: BearerAuth | BasicAuth | ApiKeyAuth | OAuth2ClientCredentials
    refs: Mapping[str, str]  # field -> secret name

    @property
    def kind(self) -> str:
        return self.config.type

    @property
    def is_oauth2(self) -> bool:
        return isinstance(self.config, OAuth2ClientCredentials)

    def secret_names(self) -> list[str]:
        return list(dict.fromkeys(self.refs.values()))

    def header_name(self) -> str | None:
        """The header this auth sets (lower case), or None."""
        c = self.config
        if isinstance(c, ApiKeyAuth):
            return c.name.lower() if c.in_ == "header" else None
        return "authorization"

    def value(self, field: str, secrets: Mapping[str, str | SecretStr]) -> str:
        """The credential of `field`, revealed (empty when the field is not set)."""
        name = self.refs.get(field)
        if name is None:
            return ""
        v = secrets[name]
        return v.get_secret_value() if isinstance(v, SecretStr) else v

    def derived_secrets(self, secrets: Mapping[str, str | SecretStr]) -> list[str]:
        """Values sent on the wire that are not a secret as written (Basic's base64).

        Empty while a value is not in `secrets` (a `${context.NAME}` before a call).
        """
        if any(name not in secrets for name in self.refs.values()):
            return []
        if isinstance(self.config, BasicAuth):
            return [_basic(self.value("username", secrets), self.value("password", secrets))]
        return []

    def credential(
        self, secrets: Mapping[str, str | SecretStr], token: str | None = None
    ) -> Credential:
        """Where this auth's credential goes, as sent and as shown.

        For OAuth2, `token` is the access token; without one the credential is only
        shown (`Bearer ***`), not sent.
        """
        c = self.config
        if isinstance(c, BearerAuth):
            return Credential("header", "Authorization", f"Bearer {self.value('token', secrets)}")
        if isinstance(c, BasicAuth):
            basic = _basic(self.value("username", secrets), self.value("password", secrets))
            return Credential("header", "Authorization", f"Basic {basic}", f"Basic {MASK}")
        if isinstance(c, OAuth2ClientCredentials):
            sent = None if token is None else f"Bearer {token}"
            return Credential("header", "Authorization", sent, f"Bearer {MASK}")
        value = self.value("value", secrets)
        if c.in_ == "header":
            return Credential("header", c.name, value)
        if c.in_ == "cookie":
            return Credential("cookie", c.name, value)
        return Credential("query", c.name, value)

    def auth_flow(
        self,
        request: RenderedRequest,
        secrets: Mapping[str, str | SecretStr],
        tokens: TokenSource,
    ) -> Generator[RenderedRequest, int | None, None]:
        """Yield the authenticated request; after a 401 to an OAuth2 token, one retry.

        The caller sends each request yielded and `send()`s back the status the API
        answered (None when there was no answer), as httpx's `_send_handling_auth` does.
        `request` comes from the render step, which already carries a credential known
        at render time (bearer, basic, API key): it is yielded as it is. For OAuth2,
        `tokens` fetches the access token (a 401 means the request was not processed, so
        sending it again with a fresh token is safe).
        """
        if not self.is_oauth2:
            yield request
            return
        token = tokens(None)
        status = yield self.credential(secrets, token).apply(request)
        if status == 401:
            token = tokens(token)
            yield self.credential(secrets, token).apply(request)


@dataclass(frozen=True)
class Credential:
    """One credential: where it goes (a header, a query pair, a cookie) and its two forms.

    `sent` is what goes on the wire (None: not known yet, an OAuth2 token before it is
    fetched); `shown` is what the artifact, events, logs and the command line show.
    """

    place: Literal["header", "query", "cookie"]
    name: str
    sent: str | None
    shown: str = ""

    def __post_init__(self) -> None:
        if not self.shown:
            scheme, sep, _ = (self.sent or "").partition(" ")
            shown = f"{scheme} {MASK}" if sep and scheme in ("Bearer", "Basic") else MASK
            object.__setattr__(self, "shown", shown)

    def apply(self, request: RenderedRequest) -> RenderedRequest:
        """`request` with this credential on, in both its sent and shown forms."""
        if self.place == "header":
            return request.with_header(self.name, self.sent, self.shown)
        if self.place == "query":
            key = urllib.parse.quote(self.name, safe="")
            encoded = urllib.parse.quote(self.sent or "", safe="")
            return request.with_query(f"{key}={encoded}", f"{key}={MASK}")
        cookie, shown = f"{self.name}={self.sent}", f"{self.name}={MASK}"
        sent_before = _header(request.headers, "cookie")
        shown_before = _header(request.display_headers, "cookie")
        if sent_before is not None:
            cookie = f"{sent_before}; {cookie}"
        if shown_before is not None:
            shown = f"{shown_before}; {shown}"
        return request.with_header("Cookie", cookie, shown)


def _header(headers: Mapping[str, str], lower: str) -> str | None:
    return next((v for k, v in headers.items() if k.lower() == lower), None)


def _basic(username: str, password: str) -> str:
    return base64.b64encode(f"{username}:{password}".encode()).decode("ascii")


# --------------------------------------------------------------------------- checks

_SECRET_FIELDS: dict[str, tuple[str, ...]] = {
    "bearer": ("token",),
    "basic": ("username", "password"),
    "api_key": ("value",),
    "oauth2_client_credentials": ("client_id", "client_secret"),
}


def compile_auth(
    auth: BearerAuth | BasicAuth | ApiKeyAuth | OAuth2ClientCredentials,
    *,
    header_names: set[str],
    query_keys: set[str],
) -> tuple[CompiledAuth | None, list[Problem]]:
    """Check an `auth` block; returns (compiled, problems).

    `header_names` (lower case) and `query_keys` are those the action already sets, so
    that the auth block and the action never both set the same thing.
    """
    problems: list[Problem] = []
    refs: dict[str, str] = {}
    for name in _SECRET_FIELDS[auth.type]:
        value: str = getattr(auth, name)
        if name == "password" and value == "":
            continue  # Basic with an empty password (Stripe-style keys)
        m = _REF_RE.match(value.strip())
        if m is None:
            example = "${" + re.sub(r"[^A-Z0-9]+", "_", f"API_{name}".upper()) + "}"
            problems.append(
                Problem(
                    f"auth.{name}",
                    f'must be a secret reference such as "{example}": credentials are read '
                    "from the environment, never written in the action file",
                    False,
                )
            )
        elif m.group(1).startswith("context.") and auth.type == "oauth2_client_credentials":
            problems.append(
                Problem(
                    f"auth.{name}",
                    "OAuth2 client credentials come from the environment (${NAME}), "
                    "not from the run's context",
                    False,
                )
            )
        else:
            refs[name] = m.group(1)

    if isinstance(auth, ApiKeyAuth):
        where = "auth.name"
        if auth.in_ in ("header", "cookie") and not _HEADER_NAME_RE.match(auth.name):
            problems.append(Problem(where, f"{auth.name!r} is not a valid {auth.in_} name"))
        elif auth.in_ == "query" and (not auth.name or re.search(r"[{}&=#\s]", auth.name)):
            problems.append(Problem(where, f"{auth.name!r} is not a valid query parameter name"))
        elif auth.in_ == "header" and auth.name.lower() in header_names:
            problems.append(
                Problem(where, f"headers.{auth.name} is also set; keep the credential in auth only")
            )
        elif auth.in_ == "query" and auth.name in query_keys:
            problems.append(Problem(where, f"the url already has a {auth.name!r} query parameter"))
        if auth.in_ == "header" and auth.name.lower() in (
            "host",
            "content-length",
            "transfer-encoding",
            "connection",
            "cookie",
        ):
            problems.append(Problem(where, f"{auth.name} cannot carry an API key"))
    elif "authorization" in header_names:
        problems.append(
            Problem(
                "auth",
                "headers.Authorization is also set; the auth block sets it (remove one)",
                False,
            )
        )

    if isinstance(auth, OAuth2ClientCredentials):
        problems += _check_token_url(auth.token_url)
        for key in auth.token_params:
            if key in _RESERVED_TOKEN_PARAMS:
                problems.append(
                    Problem(f"auth.token_params.{key}", "set by the grant itself; not allowed")
                )
        for key, text in (
            ("scope", auth.scope or ""),
            ("audience", auth.audience or ""),
            *((f"token_params.{k}", v) for k, v in auth.token_params.items()),
        ):
            if "${" in text or re.search(r"\{[A-Za-z_][A-Za-z0-9_]*\}", text):
                problems.append(
                    Problem(f"auth.{key}", "placeholders and secrets are not allowed here")
                )

    if any(not p.warning for p in problems):
        return None, problems
    return CompiledAuth(auth, refs), problems


def _check_token_url(url: str) -> list[Problem]:
    where = "auth.token_url"
    if "{" in url or "$" in url:
        return [Problem(where, "the token URL is written as is: no placeholders or secrets")]
    parts = urllib.parse.urlsplit(url)
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return [Problem(where, f"{url!r} is not an absolute http(s) URL")]
    if parts.username or parts.password:
        return [Problem(where, "credentials in the token URL are not allowed; use client_id")]
    if parts.scheme.lower() == "http" and parts.hostname not in ("localhost", "127.0.0.1", "::1"):
        return [
            Problem(
                where, "plain http:// sends the client secret in clear text; use https://", True
            )
        ]
    return []
