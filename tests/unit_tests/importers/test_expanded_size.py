"""`expanded_size` (the importers' limit on how big a document becomes once its shared
values are written out): the one-pass count for trees gives what the counting of shared
containers gives, for trees, shared values and containers that hold themselves."""

from __future__ import annotations

import sys
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from langchain_apiactions.importers._common import _shared_size, expanded_size

_SCALARS = st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=3))
_VALUES = st.recursive(
    _SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=3), inner, max_size=4)
    ),
    max_leaves=30,
)


def _written_out(value: Any) -> int:
    """The count by writing the value out (a tree only)."""
    if isinstance(value, dict):
        return 1 + sum(_written_out(v) for v in value.values())
    if isinstance(value, list):
        return 1 + sum(_written_out(v) for v in value)
    return 1


def _containers(value: Any) -> list[Any]:
    out, stack, seen = [], [value], set()
    while stack:
        node = stack.pop()
        if isinstance(node, (dict, list)) and id(node) not in seen:
            seen.add(id(node))
            out.append(node)
            stack.extend(node.values() if isinstance(node, dict) else node)
    return out


@given(_VALUES)
def test_a_tree_counts_what_writing_it_out_counts(value: Any) -> None:
    assert expanded_size(value) == _written_out(value) == _shared_size(value)


@given(_VALUES, st.data())
def test_shared_and_self_holding_containers_count_as_before(
    value: Any, data: st.DataObject
) -> None:
    containers = _containers(value)
    if not containers:
        return
    # Graft containers into one another: shared values, and (when one lands inside
    # itself or a descendant) containers that hold themselves.
    for i in range(data.draw(st.integers(0, 4))):
        what = data.draw(st.sampled_from(containers))
        into = data.draw(st.sampled_from(containers))
        if isinstance(into, list):
            into.append(what)
        else:
            into[f"graft{i}"] = what
    assert expanded_size(value) == _shared_size(value)


def test_a_container_that_holds_itself_is_endless() -> None:
    loop: list[Any] = [1]
    loop.append(loop)
    assert expanded_size(loop) == sys.maxsize
    shared = [1, 2, 3]
    assert expanded_size({"a": shared, "b": shared, "c": [shared]}) == 1 + 4 + 4 + 1 + 4
