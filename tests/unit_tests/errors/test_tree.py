"""Every exception the package defines is in `errors.py`'s drawn tree, drawn as it is.

The package is walked for `BaseException` subclasses: a public one derives from
`ApiActionError` and is drawn under its parent (the drawing is parsed); a private one
(`_Name`, control flow that never leaves its step) is named in the docstring, so adding
one is a decision someone wrote down.
"""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import langchain_apiactions
from langchain_apiactions import errors

PACKAGE = Path(langchain_apiactions.__file__).parent
DOC = errors.__doc__ or ""
DRAWING = DOC.split("```", 2)[1]


def _package_exceptions() -> dict[str, type[BaseException]]:
    found: dict[str, type[BaseException]] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        if parts[-1] == "__main__":
            continue  # runs the command line
        if parts[-1] == "__init__":
            parts.pop()
        module = importlib.import_module(".".join(parts))
        for obj in vars(module).values():
            if (
                isinstance(obj, type)
                and issubclass(obj, BaseException)
                and not issubclass(obj, Warning)  # warned, never raised
                and obj.__module__ == module.__name__
            ):
                found[obj.__name__] = obj
    return found


def _drawn() -> dict[str, tuple[str | None, list[str]]]:
    """Each drawn class: its parent in the drawing and the other bases in parentheses."""
    drawn: dict[str, tuple[str | None, list[str]]] = {}
    stack: list[str] = []
    for line in DRAWING.strip("\n").splitlines():
        match = re.match(r"^([│├└─ ]*)([A-Z]\w+)(?: \(([\w, ]+)\))?", line)
        prefix = match.group(1) if match else ""
        if match is None or (prefix and not ("├" in prefix or "└" in prefix)):
            continue  # a line of text under a class
        depth = len(prefix) // 4
        name = match.group(2)
        del stack[depth:]
        parent = stack[-1] if stack else None
        extra = [b.strip() for b in (match.group(3) or "").split(",") if b.strip()]
        drawn[name] = (parent, extra)
        stack.append(name)
    return drawn


def test_the_drawing_is_read() -> None:
    drawn = _drawn()
    assert drawn["ApiActionError"] == (None, [])
    assert drawn["MissingSecretError"] == ("ActionConfigError", [])
    assert drawn["ArgumentError"] == ("ActionCallError", ["ValueError"])
    assert drawn["TokenError"] == ("ActionCallError", [])


def test_every_public_exception_is_drawn_where_it_is() -> None:
    drawn = _drawn()
    found = _package_exceptions()
    public = {n: c for n, c in found.items() if not n.startswith("_")}
    assert sorted(public) == sorted(drawn)
    for name, cls in public.items():
        assert issubclass(cls, errors.ApiActionError), name
        parent, extra = drawn[name]
        bases = [b.__name__ for b in cls.__bases__]
        if parent is not None:
            assert bases[0] == parent, (name, bases)
        assert sorted(bases[1:]) == sorted(extra), name
        if cls.__module__ != errors.__name__:
            # Only what needs LangChain lives outside errors.py (which must not import it).
            assert name == "ToolArgumentError", f"{name} belongs in errors.py"


def test_each_private_exception_is_named_as_control_flow() -> None:
    private = [n for n in _package_exceptions() if n.startswith("_")]
    assert private  # the walk finds them
    for name in private:
        assert f"`{name}`" in DOC, f"{name}: say in errors.py's docstring that it never leaves"


def test_the_old_import_paths_still_work() -> None:
    from langchain_apiactions import bodies, oauth2, server

    assert oauth2.TokenError is errors.TokenError
    assert bodies.XmlRefused is errors.XmlRefused
    assert server.ServerSettingsError is errors.ServerSettingsError
    assert sorted(errors.__all__) == sorted(n for n in _drawn() if n != "ToolArgumentError")
