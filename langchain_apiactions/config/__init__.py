"""The action file: pydantic models, loading (YAML/JSON/dict/list) and validation.

One concept per module:

- `models`: the pydantic models (`ApiAction`, `ActionInput`, `ResponseField`, ...);
- `aliases`: the labels of chatbot products' UIs, read as the format's field names;
- `reading`: a path, YAML/JSON text, a dict or a list read into plain data;
- `checks`: one action's templates compiled once, each problem named by field;
- `mistakes`: what a new user gets wrong that would load (`{{name}}`, `${input}`);
- `loading`: `check_actions`, `load_actions` and `environment_secrets`;
- `options`: the repeat-safety options (`idempotency_key`, `max_calls_per_session`,
  `rate_limit`, `cache`, `pagination`) and their load-time checks.

Like the templating and the HTTP layer, this subpackage needs no LangChain.
"""

from __future__ import annotations

from langchain_apiactions.config.checks import (
    BUILTIN_PLACEHOLDERS,
    OVERLAP_WARNING,
    CompiledTemplates,
    description_words,
    overlapping_pairs,
)
from langchain_apiactions.config.loading import (
    ValidationReport,
    check_actions,
    environment_secrets,
    load_actions,
    unset_secrets,
)
from langchain_apiactions.config.models import (
    MAX_EXAMPLES,
    METHODS,
    ActionInput,
    ApiAction,
    Button,
    CloseChat,
    ResponseField,
)
from langchain_apiactions.config.reading import TEXT_SOURCE, YAML_LOADER

__all__ = [
    "BUILTIN_PLACEHOLDERS",
    "MAX_EXAMPLES",
    "METHODS",
    "OVERLAP_WARNING",
    "TEXT_SOURCE",
    "YAML_LOADER",
    "ActionInput",
    "ApiAction",
    "Button",
    "CloseChat",
    "CompiledTemplates",
    "ResponseField",
    "ValidationReport",
    "check_actions",
    "description_words",
    "environment_secrets",
    "load_actions",
    "overlapping_pairs",
    "unset_secrets",
]
