"""The lean YAML reader means exactly what PyYAML's loader means (YAML 1.1, duplicate keys
refused): the same values of the same types, the same errors with the same lines."""

from __future__ import annotations

import datetime
import math
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import langchain_apiactions
from langchain_apiactions.config import reading
from langchain_apiactions.config.reading import YAML_LOADER, load_yaml

EXAMPLES = sorted((Path(langchain_apiactions.__file__).parent / "examples").glob("*.yaml"))


def typed(value: Any) -> Any:
    """`value` with every type spelled out: `True`, `1` and `1.0` differ, NaN equals NaN."""
    if isinstance(value, dict):
        return ("dict", [(typed(k), typed(v)) for k, v in value.items()])
    if isinstance(value, list):
        return ("list", [typed(v) for v in value])
    if isinstance(value, float):
        return ("float", "nan" if math.isnan(value) else repr(value))
    if isinstance(value, (datetime.date, datetime.datetime)):
        return (type(value).__name__, repr(value))
    return (type(value).__name__, value)


def reference(text: str) -> Any:
    """What today's loader makes of `text`: its value, or its error (words and place)."""
    try:
        return ("value", typed(yaml.load(text, Loader=YAML_LOADER)))
    except yaml.YAMLError as e:
        return ("error", type(e).__name__, str(e))


def ours(text: str) -> Any:
    try:
        return ("value", typed(load_yaml(text)))
    except yaml.YAMLError as e:
        return ("error", type(e).__name__, str(e))


def lean(text: str) -> Any:
    """The lean reader alone: its value, or None when it leaves the text to the loader."""
    try:
        return ("value", typed(reading._lean_load(text)))
    except reading._NotPlain:
        return None


# Plain scalars PyYAML 1.1 reads otherwise than a YAML 1.2 reader would, and their kin.
PLAIN = [
    *"yes Yes YES no No NO on On ON off Off OFF y Y n N".split(),
    *"true True TRUE false False FALSE tRUE yES".split(),
    *"010 0o10 0x1F 0X1F 0b101 1_000 1_0.5 +12 -12 -0 0 00 09 0777 0xFF_FF".split(),
    *"1:20 -1:20 190:20:30 1:20.5 60:60 12:30:45".split(),
    *"1.5 1e3 1.0e+3 1.0E-3 .5 -.5 +.5 1. 1_000.5 6.8523015e+5 685.230_15e+03".split(),
    *".inf .Inf .INF -.inf +.inf .nan .NaN .NAN .infinity inf nan".split(),
    *"2001-12-14 2002-1-1 2001-12-14t21:59:43.10-05:00 2001-12-14T21:59:43Z".split(),
    "2001-12-14 21:59:43.10",
    "2001-12-14 21:59:43.10 -5",
    *"~ null Null NULL nUll none None".split(),
    *"= << ! & * -x +x .x 0x 0b 0o 1__0 _1 1_ 12abc".split(),
    "a b",
    "http://example.com:8080/x",
    "Bearer ${KEY}",
    "{order_number}",
]


@pytest.mark.parametrize("value", PLAIN)
def test_a_plain_scalar_means_what_pyyaml_says(value: str) -> None:
    for text in (
        f"key: {value}\n",
        f"- {value}\n",
        f"{value}: v\n",
        f"[{value}, x]\n" if not value.startswith(("{", "&", "*", "!")) else "[x]\n",
        f"key: '{value}'\n",
        f'key: "{value}"\n',
        f"key: |\n  {value}\n",
        f"key: >\n  {value}\n",
    ):
        assert ours(text) == reference(text), text
    if value not in ("=", "<<", "!", "&", "*", "{order_number}"):  # the rest: no tag, alias...
        assert lean(f"key: {value}\n") == reference(f"key: {value}\n")  # read by the lean one


CASES = {
    "empty": "",
    "a comment only": "# nothing\n",
    "an empty value": "a:\nb: ~\n",
    "an explicit document": "---\na: 1\n...\n",
    "two documents": "a: 1\n---\nb: 2\n",
    "multi-line plain": "a: one\n  two\n\n  three\nb: x\n",
    "literal keeps lines": "a: |\n  one\n  two\n\n  three\nb: x\n",
    "folded": "a: >-\n  one\n  two\n\n  three\n",
    "keep chomping": "a: |+\n  one\n\nb: 1\n",
    "double-quoted escapes": 'a: "tab\\tnew\\nline \\u00e9 \\x41"\n',
    "single-quoted": "a: 'it''s'\n",
    "flow": "a: {b: [1, 2, {c: yes}], d: ''}\n",
    "nested sequences": "- - 1\n  - 2\n- - 3\n",
    "int keys": "200: ok\n404: missing\n",
    "bool keys": "yes: 1\nno: 2\n",
    "null key": "~: x\n",
    "date key": "2001-12-14: x\n",
    "unicode": "name: Ünïcødé ✓\n",
    "a comment after a value": "a: b # c\n",
    "anchor and alias": "a: &x [1, 2]\nb: *x\n",
    "anchor unused": "a: &x 1\n",
    "merge key": "base: &b {x: 1, y: 2}\nc:\n  <<: *b\n  y: 3\n",
    "merge list": "a: &a {x: 1}\nb: &b {y: 2}\nc:\n  <<: [*a, *b]\n",
    "str tag": "a: !!str 010\n",
    "int tag": "a: !!int '10'\n",
    "float tag": "a: !!float 1\n",
    "binary": "a: !!binary aGVsbG8=\n",
    "set": "a: !!set {x, y}\n",
    "omap": "a: !!omap [x: 1, y: 2]\n",
    "non-specific tag": "a: ! 010\n",
    "custom tag": "a: !thing x\n",
    "python tag": "a: !!python/object:os.system x\n",
    "undefined alias": "a: *nope\n",
    "complex key": "? [a, b]\n: c\n",
    "mapping as key": "? {a: b}\n: c\n",
    "duplicate key": "a: 1\nb: 2\na: 3\n",
    "duplicate by value": "1: a\n1.0: b\n",
    "duplicate bools": "yes: a\ntrue: b\n",
    "duplicate nested": "x:\n  - {u: 1, u: 2}\n",
    "nan keys": ".nan: a\n.NaN: b\n",
    "value key": "=: x\n",
    "syntax error": "actions:\n  - name: [unclosed\n",
    "bad indent": "actions:\n  - name: A\n    url: x\n   method: GET\n",
    "tab": "a: 1\n\tb: 2\n",
    "directive": "%YAML 1.1\n---\na: yes\n",
    "tag directive": "%TAG !e! tag:example.com,2000:\n---\na: !e!x 1\n",
    "deep": "a: " + "[" * 300 + "]" * 300 + "\n",
    "scalar document": "just text\n",
    "int document": "010\n",
    "bom": "\ufeffa: 1\n",
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_a_file_means_what_pyyaml_says(name: str) -> None:
    assert ours(CASES[name]) == reference(CASES[name])


@pytest.mark.parametrize(
    "name", ["anchor and alias", "merge key", "str tag", "duplicate key", "two documents"]
)
def test_what_the_lean_reader_leaves_to_the_loader(name: str) -> None:
    assert lean(CASES[name]) is None  # the loader reads it (value, or error with its line)


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_action_files_take_the_lean_reader(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    got = lean(text)
    assert got is not None
    assert got == reference(text)


def test_duplicate_key_error_keeps_its_line() -> None:
    text = "actions:\n  - name: A\n    url: https://a.example/\n    url: https://b.example/\n"
    with pytest.raises(yaml.constructor.ConstructorError) as caught:
        load_yaml(text)
    assert "found duplicate key 'url'" in str(caught.value)
    assert caught.value.problem_mark is not None
    assert caught.value.problem_mark.line + 1 == 4


_token = st.one_of(
    st.sampled_from(PLAIN),
    st.from_regex(r"[A-Za-z0-9_.:+\-~ ]{0,8}", fullmatch=True),
    st.sampled_from(["'x: y'", '"a\\tb"', "|\n  text", "[]", "{}", "&a", "*a", "!!str 1"]),
)


@st.composite
def _document(draw: Any, depth: int = 0) -> str:
    """A small YAML text from tricky tokens: block or flow, valid or not."""
    pad = "  " * depth
    lines: list[str] = []
    for _ in range(draw(st.integers(1, 4))):
        key = draw(_token)
        shape = draw(st.sampled_from(["scalar", "scalar", "map", "seq", "flow"]))
        if shape == "scalar":
            lines.append(f"{pad}{key}: {draw(_token)}")
        elif shape == "flow":
            items = ", ".join(draw(st.lists(_token, max_size=3)))
            lines.append(f"{pad}{key}: [{items}]")
        elif shape == "seq":
            lines.append(f"{pad}{key}:")
            lines += [f"{pad}  - {draw(_token)}" for _ in range(draw(st.integers(1, 3)))]
        elif depth < 2:
            lines.append(f"{pad}{key}:")
            lines.append(draw(_document(depth + 1)))
        else:
            lines.append(f"{pad}{key}: {{}}")
    return "\n".join(lines)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_document())
def test_generated_files_mean_what_pyyaml_says(text: str) -> None:
    assert ours(text) == reference(text)


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("ab1:-[]{},'\"#&*!?|> \n\t.~yo0x_")), max_size=40))
def test_any_text_means_what_pyyaml_says(text: str) -> None:
    assert ours(text) == reference(text)
