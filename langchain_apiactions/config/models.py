"""The action file's pydantic models: `ApiAction` and its inputs, fields, button, close."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, StrictStr, field_validator

from langchain_apiactions.auth import (
    AuthConfig,
    normalise_auth,
    numbers_as_text,
)
from langchain_apiactions.config.aliases import (
    BUTTON_ALIASES,
    CLOSE_ALIASES,
    FIELD_ALIASES,
    HEADER_KEYS,
    INPUT_ALIASES,
    YES_NO,
    normalise,
)
from langchain_apiactions.config.checks import CompiledTemplates, compile_action
from langchain_apiactions.config.options import (
    CacheOption,
    IdempotencyOption,
    Pagination,
    RateLimit,
    idempotency_value,
    parse_rate_limit,
)
from langchain_apiactions.config.reading import TEXT_SOURCE
from langchain_apiactions.errors import ActionConfigError, Problem
from langchain_apiactions.templating import (
    is_context,
    secrets_in,
)

__all__ = ["MAX_EXAMPLES", "ActionInput", "ApiAction", "Button", "CloseChat", "ResponseField"]

METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
# `examples:` per action (visitor messages indexed by action selection).
MAX_EXAMPLES = 50


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _lowered(v: Any) -> Any:
    """A keyword as written in any case, with spaces around it (`Number `): `number`."""
    return v.strip().lower() if isinstance(v, str) else v


class ActionInput(_Model):
    """A value the AI collects from the visitor ("Collect data inputs")."""

    name: str = Field(description="Placeholder name, `^[A-Za-z_][A-Za-z0-9_]*$`.")
    type: Literal["text", "number", "date"] = Field("text", description="text, number or date.")
    description: str = Field("", description="What the value is; the model reads it.")
    required: bool = Field(False, description="The AI must ask for it before calling.")
    array: bool = Field(False, description="A list of values.")
    default: Any = Field(None, description="Used when the visitor gave no value.")

    @field_validator("type", mode="before")
    @classmethod
    def _lower_type(cls, v: Any) -> Any:
        return _lowered(v)

    @field_validator("required", "array", mode="before")
    @classmethod
    def _yes_no(cls, v: Any) -> Any:
        return YES_NO.get(v.strip().lower(), v) if isinstance(v, str) else v


class ResponseField(_Model):
    """A field to extract from the response ("Expected response fields")."""

    name: str = Field(description="Name shown to the model; also the path when `path` is unset.")
    path: str | None = Field(None, description="JMESPath or dotted path into the JSON body.")
    example: Any = Field(None, description="An example value (documentation only).")


class Button(_Model):
    """A button shown with the triggered response."""

    label: str = Field(description="Button text; may use placeholders.")
    url: str = Field(description="Link; placeholders from inputs and extracted fields.")


class CloseChat(_Model):
    """Close the chat after the action runs."""

    farewell: str | None = Field(None, description="Farewell message shown last.")


class ApiAction(_Model):
    """One API action, as declared in the action file."""

    name: str = Field(description="Tool name, `^[A-Za-z0-9_]{1,64}$`.")
    when_to_use: str = Field("", description="Trigger description; the tool description.")
    triggered_response: str = Field("", description="Message shown when the action fires.")
    method: Literal["GET", "POST", "PUT", "PATCH", "DELETE"] = Field(description="HTTP method.")
    url: str = Field(description="Endpoint URL with `{input}` placeholders and `${SECRET}`s.")
    inputs: tuple[ActionInput, ...] = Field((), description="Values to collect.")
    headers: dict[str, str] = Field(default_factory=dict, description="Request headers.")
    body: str | dict[str, Any] | list[Any] | None = Field(
        None, description="JSON text template, or a mapping/list with placeholders."
    )
    response_fields: tuple[ResponseField, ...] = Field((), description="Fields to extract.")
    once_per_session: bool = Field(False, description="Run at most once per chat session.")
    button: Button | None = Field(None, description="Action button.")
    close_chat: CloseChat | None = Field(None, description="Close the chat afterwards.")
    timeout: float = Field(10.0, gt=0, le=600, description="Total deadline in seconds.")
    confirm: bool = Field(False, description="Ask the visitor before calling (agent helper).")
    auth: AuthConfig | None = Field(
        None, description="Credentials: bearer, basic, api_key or oauth2_client_credentials."
    )
    body_format: Literal["json", "form"] = Field(
        "json", description="json, or form (application/x-www-form-urlencoded)."
    )
    examples: tuple[StrictStr, ...] = Field(
        (),
        description="Visitor messages this action is for; indexed by action selection.",
    )
    idempotency_key: IdempotencyOption | None = Field(
        None, description="Send one key for every attempt of the same call (true or {header})."
    )
    max_calls_per_session: int | None = Field(
        None, ge=1, description="At most this many calls of the action in one session."
    )
    rate_limit: RateLimit | None = Field(
        None, description='At most N calls per second, minute or hour ("30/minute").'
    )
    cache: CacheOption | None = Field(
        None, description="Answer identical GET calls from the store for `ttl` seconds."
    )
    pagination: Pagination | None = Field(
        None, description="Fetch further pages (next_url, link_header, cursor or page)."
    )

    _source: str = PrivateAttr(default=TEXT_SOURCE)
    _compiled: CompiledTemplates | None = PrivateAttr(default=None)

    @field_validator("method", mode="before")
    @classmethod
    def _upper_method(cls, v: Any) -> Any:
        if isinstance(v, str):
            v = v.strip().upper()
            return {"POSTAR": "POST"}.get(v, v)
        return v

    @field_validator("examples", mode="before")
    @classmethod
    def _examples(cls, v: Any) -> Any:
        if v is None:
            return ()
        if not isinstance(v, (list, tuple)):
            msg = "must be a list of visitor messages"
            raise ValueError(msg)
        if len(v) > MAX_EXAMPLES:
            msg = f"at most {MAX_EXAMPLES} examples (got {len(v)})"
            raise ValueError(msg)
        bad = [i for i, e in enumerate(v) if not isinstance(e, str)]
        if bad:
            msg = f"item {bad[0] + 1} is not text: each example is a visitor message"
            raise ValueError(msg)
        return v

    @field_validator("examples")
    @classmethod
    def _example_texts(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        texts = tuple(" ".join(e.split()) for e in v)
        if any(not e for e in texts):
            msg = "an example must not be empty"
            raise ValueError(msg)
        return texts

    @field_validator("auth", mode="before")
    @classmethod
    def _auth(cls, v: Any) -> Any:
        return normalise_auth(v)

    @field_validator("body_format", mode="before")
    @classmethod
    def _lower_body_format(cls, v: Any) -> Any:
        return _lowered(v)

    @field_validator("idempotency_key", mode="before")
    @classmethod
    def _idempotency(cls, v: Any) -> Any:
        return idempotency_value(v)

    @field_validator("rate_limit", mode="before")
    @classmethod
    def _rate_limit(cls, v: Any) -> Any:
        return parse_rate_limit(v)

    @field_validator("close_chat", mode="before")
    @classmethod
    def _close_chat(cls, v: Any) -> Any:
        if v is False or v is None:
            return None
        if v is True:
            return {}
        if isinstance(v, str):
            return {"farewell": v}
        return normalise(v, CLOSE_ALIASES)

    @field_validator("button", mode="before")
    @classmethod
    def _button(cls, v: Any) -> Any:
        if v is False:
            return None
        return normalise(v, BUTTON_ALIASES)

    @field_validator("inputs", mode="before")
    @classmethod
    def _inputs(cls, v: Any) -> Any:
        if isinstance(v, Mapping):  # {name: {type: ...}} shorthand
            v = [{"name": k, **(normalise(s, INPUT_ALIASES) or {})} for k, s in v.items()]
        if isinstance(v, list):
            # A bare name is a required text input: `inputs: [station, rental_date]`.
            return [
                {"name": i, "required": True} if isinstance(i, str) else normalise(i, INPUT_ALIASES)
                for i in v
            ]
        return v

    @field_validator("response_fields", mode="before")
    @classmethod
    def _fields(cls, v: Any) -> Any:
        if isinstance(v, Mapping):
            # `{status: Shipped}` is the walkthrough's Field Name -> Example Value table;
            # `{price: {path: price.eur}}` names a field with its settings.
            v = [
                {"name": k, **normalise(s, FIELD_ALIASES)}
                if isinstance(s, Mapping)
                else {"name": k, "example": s}
                for k, s in v.items()
            ]
        if isinstance(v, list):
            return [{"name": i} if isinstance(i, str) else normalise(i, FIELD_ALIASES) for i in v]
        return v

    @field_validator("headers", mode="before")
    @classmethod
    def _headers(cls, v: Any) -> Any:
        if v is None:
            return {}
        if isinstance(v, list):  # [{header_name: ..., header_value: ...}]
            out: dict[str, Any] = {}
            for item in v:
                item = normalise(item, {})
                if not isinstance(item, Mapping):
                    return v
                name = next((item[k] for k in HEADER_KEYS[0] if k in item), None)
                value = next((item[k] for k in HEADER_KEYS[1] if k in item), None)
                out[str(name)] = value
            return out
        if isinstance(v, Mapping):
            return numbers_as_text(v)
        return v

    @property
    def source(self) -> str:
        """The file this action came from, or `<actions>`."""
        return self._source

    @classmethod
    def from_source(cls, data: Mapping[str, Any], source: str) -> ApiAction:
        """Validate `data` as an action read from `source`.

        Args:
            data: One action's fields, UI labels already turned into field names.
            source: Where it was read (a file name, or `<actions>`), for messages.

        Returns:
            The action, its templates not compiled yet (see `check`).

        Raises:
            pydantic.ValidationError: A field has the wrong type or value.
        """
        action = cls.model_validate(data)
        action._source = source
        return action

    def check(self) -> list[Problem]:
        """Compile every template (kept for the calls) and return the problems found.

        The action is usable when none of them is an error (a warning is not).

        Returns:
            The problems, each with its field and whether it is an error.
        """
        compiled, problems = compile_action(self)
        if compiled is not None:
            self._compiled = compiled
        return problems

    @property
    def compiled(self) -> CompiledTemplates:
        """The parsed templates (compiled when the action was checked, or now)."""
        if self._compiled is None:
            errors = [p for p in self.check() if not p.warning]
            if errors or self._compiled is None:
                raise ActionConfigError(p.line(self._source, self.name) for p in errors)
        return self._compiled

    def context_names(self) -> list[str]:
        """Names of the trusted-context values (`{context.NAME}`, `${context.NAME}`) used.

        Returns:
            The names without `context.`, in the order they appear.
        """
        return list(self.compiled.context)

    def secret_names(self) -> list[str]:
        """Names of the `${NAME}` secrets this action uses.

        Returns:
            The names (url, headers and `auth:`), each once, in the order they appear.
        """
        c = self.compiled
        return list(
            dict.fromkeys(
                secrets_in(c.url.all_parts())
                + secrets_in(c.headers.all_parts())
                + [n for n in (c.auth.secret_names() if c.auth else []) if not is_context(n)]
            )
        )
