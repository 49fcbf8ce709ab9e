"""`apiactions validate FILE`: check an action file, print its errors and warnings.

Needs no LangChain and no HTTP stack (a test keeps it so). The one exception: with two
actions or more and the `select` extra installed, the description-similarity check loads
the packaged embedding model (through `embeddings.PackagedEmbeddings`).
"""

from __future__ import annotations

import argparse
from typing import Any, TextIO

from langchain_apiactions.cli.options import add_command
from langchain_apiactions.config import check_actions

__all__ = ["add_parser", "cmd_validate", "run"]


def add_parser(sub: Any) -> None:
    v = add_command(sub, "validate", "check an action file: errors and warnings")
    v.add_argument("file", help="the action file (YAML or JSON)")


def run(ns: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    return cmd_validate(ns.file, out, err)


_EXAMPLES_SHOWN = 20


def cmd_validate(file: str, out: TextIO, err: TextIO) -> int:
    report = check_actions(file)
    for line in report.errors:
        err.write(f"error: {line}\n")
    for line in report.warnings:
        err.write(f"warning: {line}\n")
    if report.errors:
        err.write(f"{file}: {len(report.errors)} error(s), {len(report.warnings)} warning(s)\n")
        return 1
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
