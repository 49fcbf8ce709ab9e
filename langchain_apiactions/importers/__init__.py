"""Import action files from OpenAPI documents and cURL commands, for a person to curate.

`from_openapi(spec, operations=None, base_url=None)` and `from_curl(text)` return the
action file's mapping (`{"actions": [...]}`, with `defaults` when the actions share their
`auth`). `import_openapi` and `import_curl` return an `ImportResult` that also has the
warnings and renders commented YAML (`to_yaml()`), as `apiactions import` writes it.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from langchain_apiactions.importers._common import ImportedAction, ImportResult
from langchain_apiactions.importers.curl import import_curl
from langchain_apiactions.importers.openapi import import_openapi

__all__ = [
    "ImportResult",
    "ImportedAction",
    "from_curl",
    "from_openapi",
    "import_curl",
    "import_openapi",
]


def from_openapi(
    spec: Any,
    operations: str | Iterable[str] | None = None,
    base_url: str | None = None,
) -> dict[str, Any]:
    """The action file for an OpenAPI 3.0/3.1 or Swagger 2.0 document, as a mapping.

    `spec` is a path, YAML/JSON text or a mapping; `operations` picks operations by
    operationId or `"METHOD /path"` (a list, or comma-separated text); `base_url`
    replaces the document's server address.

    Raises:
        ImportSpecError: naming the document and what is wrong.
    """
    return import_openapi(spec, operations=operations, base_url=base_url).mapping()


def from_curl(text: str) -> dict[str, Any]:
    """The action file for one cURL command (as API docs print it), as a mapping.

    Credentials in the command (an `Authorization` header, API-key headers, `-u`) are
    never copied: they become `${ENV}` secret names.

    Raises:
        ImportSpecError: naming what in the command cannot be imported.
    """
    return import_curl(text).mapping()
