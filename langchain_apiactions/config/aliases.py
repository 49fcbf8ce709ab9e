"""The labels of chatbot products' UIs, read as the file format's own field names.

Keys are normalised (lower case, spaces and dashes -> underscores) and then mapped:
`Action name` -> `name`, `Endpoint URL` -> `url`, `Sim` -> yes. The README lists every
label (a test keeps it so).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from typing import Any

__all__ = [
    "ACTION_ALIASES",
    "ALL_ALIASES",
    "BUTTON_ALIASES",
    "CLOSE_ALIASES",
    "FIELD_ALIASES",
    "INPUT_ALIASES",
    "norm_key",
    "normalise",
]

# Labels of chatbot products' UIs (normalised: lower case, spaces and dashes ->
# underscores). The README lists every one of them (a test keeps it so).
ACTION_ALIASES = {
    "action_name": "name",
    "trigger_description": "when_to_use",
    "when_to_trigger": "when_to_use",
    "trigger_response": "triggered_response",
    "response_message": "triggered_response",
    "http_method": "method",
    "request_method": "method",
    "endpoint_url": "url",
    "endpoint": "url",
    "api_url": "url",
    "request_url": "url",
    "collect_data_inputs": "inputs",
    "data_inputs": "inputs",
    "parameters": "inputs",
    "request_json_template": "body",
    "json_template": "body",
    "request_body": "body",
    "json_body": "body",
    "request_headers": "headers",
    "expected_response_fields": "response_fields",
    "response_mapping": "response_fields",
    "trigger_only_once_per_session": "once_per_session",
    "show_action_button_in_response": "button",
    "action_button": "button",
    "automatically_close_the_chat": "close_chat",
    "close_the_chat": "close_chat",
    "timeout_seconds": "timeout",
    "require_confirmation": "confirm",
    "ask_for_confirmation": "confirm",
}
INPUT_ALIASES = {
    "input_name": "name",
    "parameter_name": "name",
    "param_name": "name",
    "variable_name": "name",
    "nome": "name",
    "data_type": "type",
    "input_type": "type",
    "parameter_type": "type",
    "value_type": "type",
    "input_description": "description",
    "parameter_description": "description",
    "default_value": "default",
    "array_flag": "array",
    "is_array": "array",
    "multiple_values": "array",
    "list": "array",
    "required_flag": "required",
    "is_required": "required",
    "mandatory": "required",
}
FIELD_ALIASES = {
    "field_name": "name",
    "example_value": "example",
    "field_path": "path",
    "json_path": "path",
}
BUTTON_ALIASES = {
    "button_label": "label",
    "button_text": "label",
    "text": "label",
    "button_url": "url",
    "button_link": "url",
    "link": "url",
}
CLOSE_ALIASES = {"farewell_message": "farewell", "message": "farewell"}
ALL_ALIASES = {
    **ACTION_ALIASES,
    **INPUT_ALIASES,
    **FIELD_ALIASES,
    **BUTTON_ALIASES,
    **CLOSE_ALIASES,
}
# Portuguese UIs (the walkthrough's own table says `Sim`) answer yes/no in their language.
YES_NO = {"sim": True, "não": False, "nao": False}
HEADER_KEYS = (("header_name", "name", "key"), ("header_value", "value"))


@functools.lru_cache(maxsize=1024)
def norm_key(key: Any) -> str:
    return re.sub(r"[\s\-]+", "_", str(key).strip()).lower()


def normalise(mapping: Any, aliases: Mapping[str, str]) -> Any:
    if not isinstance(mapping, Mapping):
        return mapping
    out: dict[str, Any] = {}
    for key, value in mapping.items():
        k = norm_key(key)
        out[aliases.get(k, k)] = value
    return out
