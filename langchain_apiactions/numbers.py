"""One rule for a number written as text, wherever the package writes one.

A header or token parameter written as a YAML number, a number a model sends for a
`text` input, a number placed in a URL or inside a JSON string: each is sent as what a
person writes, `1` for `1.0` (the README: integral numbers are written without `.0`).
"""

from __future__ import annotations

import math
from typing import Any

__all__ = ["number_as_text", "number_text"]

# Above this an integral float is written as Python writes it (`1e+20`): its digits are
# not the ones anybody wrote.
_DIGITS_UP_TO = 2**63


def number_text(value: float) -> str:
    """The text of `value`: integers exact, integral floats without `.0`.

    `1` and `1.0` -> `1`, `-0.0` -> `0`, `12345.0` -> `12345`, `2.5` -> `2.5`, `0.1` ->
    `0.1` (the shortest text that reads back as the same float), `1e20` -> `1e+20`.

    Args:
        value: an `int` or a `float` (a `bool` is not a number here: see `number_as_text`).

    Returns:
        The text to send.
    """
    if isinstance(value, float) and value.is_integer() and abs(value) < _DIGITS_UP_TO:
        return str(int(value))
    return str(value)


def number_as_text(value: Any) -> Any:
    """`value` as text if it is a finite number; anything else unchanged.

    `True`/`False` are not numbers (not what a visitor said, nor what a header means)
    and infinities and NaN are no number a person writes: they are left to validation,
    which refuses them where text is expected.

    Args:
        value: any value, as parsed from YAML/JSON or sent by a model.

    Returns:
        `number_text(value)` for an `int` or a finite `float`, else `value` itself.
    """
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return value
    if isinstance(value, float) and not math.isfinite(value):
        return value
    return number_text(value)
