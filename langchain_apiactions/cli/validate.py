"""`apiactions validate FILE`: check an action file, print its errors and warnings.

Needs no LangChain and no HTTP stack (a test keeps it so). The one exception: with two
actions or more and the `select` extra installed, the description-similarity check loads
the packaged embedding model (through `embeddings.PackagedEmbeddings`).
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any, TextIO

from langchain_apiactions.cli.options import add_command

if TYPE_CHECKING:  # the file format loads when the command runs, not for --help
    from langchain_apiactions.config import ApiAction

__all__ = ["add_parser", "cmd_validate", "run"]


def add_parser(sub: Any) -> None:
    v = add_command(sub, "validate")
    v.add_argument("file", help="the action file (YAML or JSON)")
    v.add_argument(
        "--strict",
        action="store_true",
        help="a secret the file needs that is not set in the environment is an error "
        "(before deploying), not a warning",
    )


def run(ns: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    return cmd_validate(ns.file, out, err, strict=ns.strict)


_EXAMPLES_SHOWN = 20


def cmd_validate(file: str, out: TextIO, err: TextIO, *, strict: bool = False) -> int:
    from langchain_apiactions.config import check_actions, unset_secrets

    report = check_actions(file)
    users: dict[tuple[str, str | None], list[str]] = {}
    for action, name, hint in unset_secrets(report.actions):
        users.setdefault((name, hint), []).append(action)
    unset = [
        f"{report.source}: {', '.join(actions)}: secret ${{{name}}} is not set in the "
        "environment" + (f" (did you mean {hint}?)" if hint else "")
        for (name, hint), actions in users.items()
    ]
    (report.errors if strict else report.warnings).extend(unset)
    for line in report.errors:
        err.write(f"error: {line}\n")
    for line in report.warnings:
        err.write(f"warning: {line}\n")
    if report.errors:
        err.write(f"{file}: {len(report.errors)} error(s), {len(report.warnings)} warning(s)\n")
        return 1
    _print_secrets(report.actions, out)
    needed = {a.name: a.context_names() for a in report.actions if a.context_names()}
    if needed:
        names = sorted({n for ns in needed.values() for n in ns})
        out.write(
            "context: the application must provide "
            + ", ".join(f"context.{n}" for n in names)
            + " ("
            + "; ".join(f"{a}: {', '.join(ns)}" for a, ns in needed.items())
            + ")\n"
        )
    with_examples = [a for a in report.actions if a.examples]
    if with_examples:
        total = sum(len(a.examples) for a in with_examples)
        out.write(
            f"examples: {total} for {len(with_examples)} of {len(report.actions)} action(s)"
            " (indexed by action selection)\n"
        )
        for a in with_examples[:_EXAMPLES_SHOWN]:
            out.write(f"  {a.name}: " + "; ".join(repr(e) for e in a.examples) + "\n")
        if len(with_examples) > _EXAMPLES_SHOWN:
            out.write(f"  ... and {len(with_examples) - _EXAMPLES_SHOWN} more action(s)\n")
    from langchain_apiactions.similarity import similarity_report

    similar, alike = similarity_report(report.actions)
    for line in similar:
        out.write(line + "\n")
    for line in alike:
        err.write(f"warning: {line}\n")
    warned = len(report.warnings) + len(alike)
    out.write(f"{file}: {len(report.actions)} action(s) OK, {warned} warning(s)\n")
    return 0


def _print_secrets(actions: list[ApiAction], out: TextIO) -> None:
    """The `${NAME}` secrets the file needs, and whether each is set (names only)."""
    from langchain_apiactions.config import unset_secrets

    needed = sorted({s for a in actions for s in a.secret_names()})
    if needed:
        missing = {name for _, name, _ in unset_secrets(actions)}
        out.write(
            "secrets: "
            + ", ".join(f"{n} ({'NOT SET' if n in missing else 'set'})" for n in needed)
            + "\n"
        )
