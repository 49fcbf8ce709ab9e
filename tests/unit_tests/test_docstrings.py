"""Everything exported has a Google-style docstring the API reference renders: every
public function and method says what each argument is (`Args:`) and what it returns
(`Returns:`), checked against its real signature."""

from __future__ import annotations

from typing import Any

import griffe
import pytest

import langchain_apiactions

PACKAGE = griffe.load("langchain_apiactions", docstring_parser="google", resolve_aliases=True)


def _exported() -> list[Any]:
    found = [PACKAGE[name] for name in langchain_apiactions.__all__]
    return [o.final_target if o.is_alias else o for o in found]


def _sections(obj: Any) -> dict[str, list[Any]]:
    found: dict[str, list[Any]] = {}
    for section in obj.docstring.parse("google") if obj.docstring else []:
        found.setdefault(section.kind.value, []).append(section)
    return found


def _documented_parameters(obj: Any) -> list[str]:
    return [p.name.lstrip("*") for s in _sections(obj).get("parameters", []) for p in s.value]


def _problems(func: Any, where: str) -> list[str]:
    if func.docstring is None:
        return [f"{where}: no docstring"]
    if "property" in func.labels:
        return []
    problems = []
    params = [p.name for p in func.parameters if p.name not in ("self", "cls")]
    documented = _documented_parameters(func)
    if params and sorted(documented) != sorted(params):
        problems.append(f"{where}: Args: {documented} but the signature has {params}")
    returns = str(func.returns) if func.returns is not None else "None"
    sections = _sections(func)
    if (
        returns not in ("None", "Self")
        and not sections.get("returns")
        and not sections.get("yields")
    ):
        problems.append(f"{where}: returns {returns} but has no Returns: section")
    return problems


def _public_methods(cls: Any) -> list[Any]:
    return [
        m
        for name, m in cls.members.items()
        if not m.is_alias
        and m.is_function
        and (not name.startswith("_") or name == "__init__")
        and not (name == "__init__" and [p.name for p in m.parameters][1:] in ([], ["data"]))
    ]


def _overrides_documented(cls: Any, name: str) -> bool:
    """An override of a documented method of a base class in the package (its docs)."""
    if name == "__init__":
        return False
    for base in cls.mro():
        member = base.members.get(name)
        if (
            member is not None
            and member.docstring is not None
            and base.path.startswith("langchain_apiactions.")
        ):
            return True
    return False


class _Init:
    """An `__init__` whose arguments the class docstring documents."""

    def __init__(self, cls: Any, init: Any) -> None:
        self.name, self.docstring, self.parameters = "__init__", cls.docstring, init.parameters
        self.labels: set[str] = set()
        self.returns = None


def _init_documented_by(cls: Any, init: Any) -> Any:
    if _documented_parameters(init):
        return init
    if _sections(cls).get("attributes"):  # a dataclass: its fields are its arguments
        return None
    return _Init(cls, init)


EXPORTED = _exported()


@pytest.mark.parametrize("obj", EXPORTED, ids=[o.name for o in EXPORTED])
def test_every_export_is_documented_google_style(obj: Any) -> None:
    assert obj.docstring is not None and obj.docstring.value.strip(), obj.name
    problems: list[str] = []
    if obj.is_function:
        problems += _problems(obj, obj.name)
    elif obj.is_class:
        for method in _public_methods(obj):
            if method.name == "__init__":  # Google style: the class docstring's Args
                method = _init_documented_by(obj, method)
            if method is not None and not _overrides_documented(obj, method.name):
                problems += _problems(method, f"{obj.name}.{method.name}")
    assert problems == [], (
        "docs/api.md renders these docstrings: give each public function and method an "
        "`Args:` section naming every parameter and a `Returns:` section (Google style)"
    )


def test_the_errors_say_when_they_are_raised() -> None:
    for obj in EXPORTED:
        if obj.is_class and obj.name.endswith(("Error", "Warning")):
            assert len(obj.docstring.value.split()) >= 8, obj.name
