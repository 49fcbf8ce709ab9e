"""One number-to-text rule: a header, a token parameter, a `text` input and a value in a
URL write the same number the same way (integral ones without `.0`)."""

from __future__ import annotations

import math
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from langchain_apiactions import check_actions, load_actions
from langchain_apiactions.numbers import number_as_text, number_text
from langchain_apiactions.templating import text_value
from langchain_apiactions.tool import build_args_schema


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (1, "1"),
        (1.0, "1"),
        (-0.0, "0"),
        (0, "0"),
        (12345.0, "12345"),
        (2**53 + 1, "9007199254740993"),  # an int keeps every digit
        (2.5, "2.5"),
        (0.1, "0.1"),  # the shortest text that reads back as the same float
        (2.675, "2.675"),
        (1e-7, "1e-07"),
        (1e20, "1e+20"),  # beyond 2**63 the digits are not ones anybody wrote
        (-3.0, "-3"),
    ],
)
def test_the_rule(value: float, text: str) -> None:
    assert number_text(value) == text
    assert number_as_text(value) == text
    assert text_value(value) == text  # URLs, JSON strings, buttons


@pytest.mark.parametrize("value", [True, False, math.inf, -math.inf, "1.0", None, [1]])
def test_what_is_not_a_number_is_left_to_validation(value: Any) -> None:
    assert number_as_text(value) is value


@given(st.floats(allow_nan=False, allow_infinity=False) | st.integers())
def test_the_text_reads_back_as_the_same_number(value: float) -> None:
    text = number_text(value)
    assert float(text) == value if isinstance(value, float) else int(text) == value
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**63:
        assert text.lstrip("-").isdigit()


ACTION = """
actions:
  - name: Lookup
    when_to_use: Use when the visitor asks to look an order up by its number.
    method: GET
    url: https://api.example.com/orders/{order}
    inputs: [{name: order, required: true}]
    headers: {X-Api-Version: 1.0, X-Retries: 3, X-Ratio: 2.5}
    auth:
      type: oauth2_client_credentials
      token_url: https://auth.example.com/token
      client_id: "${CLIENT_ID}"
      client_secret: "${CLIENT_SECRET}"
      token_params: {version: 2.0}
"""


def test_headers_token_parameters_and_text_inputs_share_the_rule() -> None:
    (action,) = load_actions(ACTION)
    assert action.headers == {"X-Api-Version": "1", "X-Retries": "3", "X-Ratio": "2.5"}
    assert action.auth is not None and action.auth.token_params == {"version": "2"}
    schema = build_args_schema(action)
    assert schema.model_validate({"order": 12345.0}).model_dump() == {"order": "12345"}
    assert schema.model_validate({"order": 7}).model_dump() == {"order": "7"}


def test_true_is_refused_as_a_header_and_as_a_text_input() -> None:
    report = check_actions(ACTION.replace("X-Retries: 3", "X-Retries: true"))
    assert any("X-Retries" in e for e in report.errors), report.errors
    (action,) = load_actions(ACTION)
    with pytest.raises(ValueError, match="valid string"):
        build_args_schema(action).model_validate({"order": True})
