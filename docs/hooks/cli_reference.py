"""The CLI reference, written from the argparse parser `apiactions` itself runs.

Every command, subcommand and option comes from the parser, with the help text and the
default that `apiactions COMMAND --help` shows, so the page cannot drift from the code.
"""

from __future__ import annotations

import argparse
import re


def build_parser() -> argparse.ArgumentParser:
    """The parser `apiactions` runs."""
    from langchain_apiactions import cli

    return cli._parser()


def _subcommands(parser: argparse.ArgumentParser) -> list[tuple[str, argparse.ArgumentParser]]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return list(action.choices.items())
    return []


def _escape(text: str) -> str:
    """Markdown table text: `|` and HTML-like `<name>` kept literal outside code spans."""
    parts = re.split(r"(`[^`]*`)", text)
    for i, part in enumerate(parts):
        if not part.startswith("`"):
            parts[i] = part.replace("<", "&lt;").replace(">", "&gt;")
    return "".join(parts).replace("|", "\\|")


def _flags(action: argparse.Action) -> str:
    if not action.option_strings:
        return f"`{action.metavar or action.dest}`"
    takes_value = action.nargs != 0
    metavar = action.metavar or action.dest.upper()
    if isinstance(metavar, tuple):
        metavar = " ".join(metavar)
    if action.choices is not None and action.metavar is None:
        metavar = "{" + ",".join(str(c) for c in action.choices) + "}"
    return ", ".join(
        f"`{flag} {metavar}`" if takes_value else f"`{flag}`" for flag in action.option_strings
    )


def _help(parser: argparse.ArgumentParser, action: argparse.Action) -> str:
    formatter = parser._get_formatter()
    return formatter._expand_help(action) if action.help else ""  # type: ignore[attr-defined]


def _wrap(usage: str, width: int = 88) -> list[str]:
    """The usage line cut between options (never inside `[--opt VALUE]`), indented."""
    lines: list[str] = []
    for token in re.findall(r"\[[^\]]*\]|\S+", usage):
        if lines and len(lines[-1]) + 1 + len(token) <= width:
            lines[-1] += " " + token
        else:
            lines.append(("    " if lines else "") + token)
    return lines


def _section(path: str, parser: argparse.ArgumentParser, depth: int) -> list[str]:
    out = [f"{'#' * depth} `{path}`", ""]
    if parser.description:
        out += [_escape(parser.description[0].upper() + parser.description[1:]) + ".", ""]
    usage = re.sub(r"\s+", " ", parser.format_usage().removeprefix("usage: ").strip())
    out += ["```text", *_wrap(usage), "```", ""]
    rows = [
        a
        for a in parser._actions
        if not isinstance(a, (argparse._HelpAction, argparse._SubParsersAction))
    ]
    if rows:
        out += ["| argument | meaning |", "|---|---|"]
        out += [f"| {_flags(a)} | {_escape(_help(parser, a))} |" for a in rows]
        out.append("")
    for name, sub in _subcommands(parser):
        out += _section(f"{path} {name}", sub, min(depth + 1, 4))
    return out


def render(parser: argparse.ArgumentParser) -> str:
    """The reference as Markdown: one section per command, nested commands inside."""
    out: list[str] = []
    for name, sub in _subcommands(parser):
        out += _section(f"{parser.prog} {name}", sub, 2)
    return "\n".join(out).rstrip() + "\n"
