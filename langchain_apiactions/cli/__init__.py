"""The `apiactions` command line and its developer tools (demo, inspector, loopback servers).

One module per command, each with its `add_parser` and `run`: `validate`, `call`,
`demo`, `evaluate` (`eval`), `inspector` (`inspect`), `importing` (`import`), `chat` and
`mcp`; `options` holds what several commands share. This module only assembles the
parser and dispatches. The core package never imports this subpackage.
"""

from __future__ import annotations

import argparse
import difflib
import importlib
import sys
from collections.abc import Callable, Sequence
from types import ModuleType
from typing import TextIO

from langchain_apiactions.cli.options import COMMANDS, HelpFormatter, _UsageError, add_command
from langchain_apiactions.errors import (
    ActionConfigError,
    MissingExtraError,
    ModelSpecError,
    ServerSettingsError,
    SessionStoreError,
)

# Only the file format loads here: `--help` and `validate` need no LangChain and no HTTP
# stack; only the command being run loads its module, and it imports what it uses when
# it runs.

__all__ = ["main"]

Run = Callable[[argparse.Namespace, TextIO, TextIO], int]


def _command(name: str) -> ModuleType:
    """The module that parses and runs the command `name` (`eval`: `cli.evaluate`)."""
    return importlib.import_module(f"langchain_apiactions.cli.{COMMANDS[name][0]}")


def _parser(only: str | None = None) -> argparse.ArgumentParser:
    """The `apiactions` parser: every command with all its options, or with `only` set,
    that one command's options and the others by name and summary (what `--help` lists)."""
    parser = argparse.ArgumentParser(
        prog="apiactions",
        description="Declare REST API actions in YAML/JSON and use them as LangChain tools.",
        formatter_class=HelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMANDS:
        if only is None or name == only:
            _command(name).add_parser(sub)
        else:
            add_command(sub, name)
    _show_defaults(parser)
    return parser


def _show_defaults(parser: argparse.ArgumentParser) -> None:
    """Every command's `--help`, however it was added, shows each option's default."""
    parser.formatter_class = HelpFormatter
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                _show_defaults(sub)


def _subparser(parser: argparse.ArgumentParser, command: str) -> argparse.ArgumentParser:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            chosen: argparse.ArgumentParser = action.choices[command]
            return chosen
    return parser


def _unrecognized(command: argparse.ArgumentParser, extras: list[str], argv: list[str]) -> str:
    """What was not understood, and what was probably meant (`--contxt`: `--context`)."""
    first = extras[0]
    options = [o for a in command._actions for o in a.option_strings if o.startswith("--")]
    hint = ""
    if first.startswith("-"):
        close = difflib.get_close_matches(first.split("=")[0], options, n=1, cutoff=0.6)
        hint = f": did you mean {close[0]}?" if close else ""
    else:
        at = argv.index(first) if first in argv else -1
        if at >= 2 and argv[at - 2] in ("--arg", "--context") and "=" not in argv[at - 1]:
            hint = f": did you mean {argv[at - 2]} {argv[at - 1]}={first}?"
    return f"unrecognized argument {first!r}{hint}"


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `apiactions` command."""
    args = list(sys.argv[1:] if argv is None else argv)
    only = args[0] if args and args[0] in COMMANDS else ""
    parser = _parser(only)
    ns, extras = parser.parse_known_args(args)
    if ns.command != only:  # the command was not the first word: parse with its options
        parser = _parser(ns.command)
        ns, extras = parser.parse_known_args(args)
    if extras:  # the command's own usage and a did-you-mean, not the top-level usage
        command = _subparser(parser, ns.command)
        command.error(_unrecognized(command, extras, args))
    out, err = sys.stdout, sys.stderr
    try:
        run: Run = _command(ns.command).run
        return run(ns, out, err)
    except ActionConfigError as e:
        # Configuration errors name variables, never their values.
        err.write(f"error: {e}\n")
        return 1
    except (ModelSpecError, _UsageError) as e:
        err.write(f"error: {e}\n")
        return 2
    except (SessionStoreError, ServerSettingsError, MissingExtraError) as e:
        # Store errors show a Redis URL without its password.
        err.write(f"error: {e}\n")
        return 2
    except ModuleNotFoundError as e:
        if e.name and e.name.split(".")[0] in ("langchain", "langgraph"):
            err.write(
                f"error: `apiactions {ns.command}` needs the agent extra: "
                "pip install 'langchain-apiactions[agent]'\n"
            )
            return 2
        if e.name and e.name.split(".")[0] in ("mcp", "uvicorn", "starlette"):
            err.write(
                "error: `apiactions mcp` needs the mcp extra: "
                "pip install 'langchain-apiactions[mcp]'\n"
            )
            return 2
        raise


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
