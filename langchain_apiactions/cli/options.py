"""What several commands share: the help format, the network, context and session-store
options, `NAME=VALUE` pairs, did-you-mean hints and the usage error."""

from __future__ import annotations

import argparse
import difflib
from collections.abc import Sequence
from typing import Any

__all__ = [
    "COMMANDS",
    "MODEL_HELP",
    "HelpFormatter",
    "add_command",
    "context_option",
    "did_you_mean",
    "network_options",
    "parse_context",
    "store_option",
]

# Every command, in the order `apiactions --help` lists them: its name on the command line,
# the module under `cli/` that parses and runs it, and the line `--help` shows for it.
# Only the command being run loads its module (`--help` loads none).
COMMANDS: dict[str, tuple[str, str]] = {
    "validate": ("validate", "check an action file: errors and warnings"),
    "call": ("call", "call one action, printing the exact request and the result"),
    "demo": ("demo", "the offline demo: a store API and a scripted chat"),
    "eval": ("evaluate", "measure which action a model picks for each visitor case"),
    "inspect": ("inspector", "a local request inspector that prints what it receives"),
    "import": ("importing", "write an action file from an OpenAPI document or a cURL command"),
    "chat": ("chat", "chat with the agent over your own action file"),
    "mcp": ("mcp", "serve the actions to MCP clients (stdio or HTTP)"),
}

MODEL_HELP = (
    "the chat model: `offline` (the built-in lexical stand-in, not an LLM; no network) or "
    "`openai:<model>` (extra `openai`; OPENAI_BASE_URL points it at any compatible server). "
    "Without --model: openai:gpt-4.1-mini when OPENAI_API_KEY is set, else offline"
)


class HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Shows every option's default, `none` for options that have none."""

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        if (
            "%(default)" in text
            or not action.option_strings
            or action.default is argparse.SUPPRESS
            or "default" in text.lower()
        ):
            return text
        if action.default is None:
            return text + " (default: none)"
        if action.default is False:
            return text + " (default: off)"
        if isinstance(action.default, list) and not action.default:
            return text + " (default: none; repeat the option for more)"
        return text + " (default: %(default)s)"


def add_command(sub: Any, name: str) -> argparse.ArgumentParser:
    """Register the command `name` on the `apiactions` subparsers, with its line from `COMMANDS`."""
    text = COMMANDS[name][1]
    parser: argparse.ArgumentParser = sub.add_parser(
        name, help=text, description=text, formatter_class=HelpFormatter
    )
    return parser


def network_options(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--allow-private-networks",
        action="store_true",
        help="allow every loopback and private address (local servers, the inspector)",
    )
    p.add_argument(
        "--allow-host",
        action="append",
        default=[],
        metavar="HOST",
        help="allow this host name, even on a private address",
    )
    p.add_argument(
        "--allow-network",
        action="append",
        default=[],
        metavar="CIDR",
        help="allow this network, e.g. 127.0.0.0/8",
    )


def context_option(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--context",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a trusted context value for {context.NAME} / ${context.NAME}",
    )


def store_option(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--session-store",
        default=None,
        metavar="URL",
        help="where once-per-session calls are recorded: sqlite:///file.db, "
        "redis://host:6379/0 (default: in memory, this process only)",
    )


def cassette_option(
    p: argparse.ArgumentParser,
    what: str = "record the API's answers in this YAML file and replay them (see --record-mode)",
) -> None:
    p.add_argument("--cassette", default=None, metavar="FILE", help=what)
    p.add_argument(
        "--record-mode",
        default="once",
        choices=["once", "none", "new_episodes", "all"],
        help="once: record if FILE is missing, else replay; none: replay only; "
        "new_episodes: replay, record the rest; all: record again (default: once)",
    )


def cassette_options(ns: argparse.Namespace) -> dict[str, Any]:
    """The toolkit options of --cassette / --record-mode (none without --cassette)."""
    if getattr(ns, "cassette", None) is None:
        return {}
    return {"cassette": ns.cassette, "record_mode": ns.record_mode}


class _UsageError(Exception):
    """A command line that cannot be run as given (exit 2, message on stderr).

    Internal control flow of the command line: `main` catches it; it never leaves.
    """


def parse_context(pairs: Sequence[str]) -> dict[str, str]:
    values: dict[str, str] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name:
            msg = f"--context {pair.split('=')[0]!r}: expected NAME=VALUE"
            raise _UsageError(msg)
        values[name.removeprefix("context.")] = value
    return values


def did_you_mean(name: str, known: Sequence[str]) -> str:
    close = difflib.get_close_matches(name, list(known), n=1, cutoff=0.6)
    return f"did you mean {close[0]!r}?; " if close else ""
