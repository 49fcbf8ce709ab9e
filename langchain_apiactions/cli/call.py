"""`apiactions call FILE ACTION`: call one action, printing the exact request and result."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, TextIO

from langchain_apiactions.cli.options import (
    _UsageError,
    add_command,
    cassette_option,
    cassette_options,
    context_option,
    did_you_mean,
    network_options,
    parse_context,
    store_option,
)
from langchain_apiactions.cli.wording import for_cli
from langchain_apiactions.errors import ArgumentError, ArgumentsRefusedError, MissingContextError

if TYPE_CHECKING:  # the file format loads when a command runs, not for --help
    from langchain_apiactions.config import ApiAction

__all__ = ["add_parser", "cmd_call", "run"]


def add_parser(sub: Any) -> None:
    c = add_command(sub, "call")
    c.add_argument("file", help="the action file (YAML or JSON)")
    c.add_argument("action", help="the name of the action to call")
    c.add_argument(
        "--arg",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="an input value; repeat for several inputs and for the items of an array",
    )
    context_option(c)
    c.add_argument("--dry-run", action="store_true", help="print the request without sending it")
    c.add_argument(
        "--yes",
        action="store_true",
        help="send a `confirm: true` action without asking (needed without a terminal)",
    )
    c.add_argument(
        "--session", default="cli", help="session id (for once-per-session and {session_id})"
    )
    c.add_argument(
        "--json",
        action="store_true",
        help="print only the artifact, as one JSON document, on stdout (the rest on stderr)",
    )
    store_option(c)
    cassette_option(c)
    network_options(c)


def run(ns: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    return cmd_call(ns, out, err)


def _parse_args(pairs: Sequence[str]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for pair in pairs:
        if "=" not in pair:
            msg = f"--arg {pair!r}: expected NAME=VALUE"
            raise _UsageError(msg)
        name, value = pair.split("=", 1)
        if name in values:
            prev = values[name]
            values[name] = [*prev, value] if isinstance(prev, list) else [prev, value]
        else:
            values[name] = value
    return values


def _call_args(action: ApiAction, pairs: Sequence[str]) -> dict[str, Any]:
    """`--arg` pairs as raw arguments; an unknown name is refused with a did-you-mean."""
    raw = _parse_args(pairs)
    known = [i.name for i in action.inputs]
    for name in raw:
        if name not in known:
            listed = ", ".join(known) or "none"
            msg = (
                f"--arg {name}: {action.name} has no input named {name!r} "
                f"({did_you_mean(name, known)}inputs: {listed})"
            )
            raise _UsageError(msg)
    for inp in action.inputs:
        if inp.array and inp.name in raw and not isinstance(raw[inp.name], list):
            raw[inp.name] = [raw[inp.name]]
    return raw


def cmd_call(ns: argparse.Namespace, out: TextIO, err: TextIO) -> int:

    from langchain_apiactions.call import CallInput
    from langchain_apiactions.config import load_actions
    from langchain_apiactions.extract import suggest_paths
    from langchain_apiactions.result import ArtifactView, parse_body
    from langchain_apiactions.toolkit import ApiActionsToolkit

    # With --json, stdout carries exactly one JSON document; everything for people goes
    # to stderr.
    show = err if ns.json else out
    actions = load_actions(ns.file)
    action = next((a for a in actions if a.name == ns.action), None)
    if action is None:
        names = [a.name for a in actions]
        err.write(
            f"error: {ns.file}: no action named {ns.action!r} "
            f"({did_you_mean(ns.action, names)}actions: {', '.join(names)})\n"
        )
        return 2
    raw = _call_args(action, ns.arg)
    # Only the chosen action is compiled, so only its own secrets are needed.
    store = {"session_store": ns.session_store} if ns.session_store else {}
    with ApiActionsToolkit(
        actions=[action],
        allow_private_networks=ns.allow_private_networks,
        allowed_hosts=ns.allow_host,
        allowed_networks=ns.allow_network,
        **store,
        **cassette_options(ns),
    ) as toolkit:
        tool = toolkit.get_tool(action.name)
        context = parse_context(ns.context)
        for name in action.context_names():
            given = "given" if context.get(name) else "MISSING: pass --context " + name + "=VALUE"
            show.write(f"context.{name}: {given}\n")
        pipeline = tool.pipeline
        try:
            prepared = pipeline.prepare(CallInput(raw, ns.session, context))
        except MissingContextError as e:
            err.write(f"error: {e}\n")
            return 2
        except ArgumentError as e:
            if isinstance(e, ArgumentsRefusedError):
                problems = e.problems
            else:
                problems = [("", f"invalid argument: {e}")]
            for where, problem in problems:
                err.write(f"error: --arg {where}: {problem}\n" if where else f"error: {problem}\n")
            if ns.json:  # the artifact of a call whose arguments were refused
                out.write(_json_doc(pipeline.stopped(e).artifact))
            return 2
        show.write(f"> {prepared.method} {prepared.display_url}\n")
        for k, v in prepared.display_headers.items():
            show.write(f"> {k}: {v}\n")
        if prepared.display_body is not None:
            try:
                shown = json.dumps(json.loads(prepared.display_body), indent=2, ensure_ascii=False)
            except ValueError:  # a form body
                shown = prepared.display_body
            show.write(shown + "\n")
        if ns.dry_run:
            show.write("(dry run: nothing sent)\n")
            if ns.json:
                out.write(
                    _json_doc(
                        {
                            "method": prepared.method,
                            "url": prepared.display_url,
                            "headers": prepared.display_headers,
                            "body": prepared.display_body,
                        }
                    )
                )
            return 0
        if action.confirm and not ns.yes and not _confirmed(action.name, err):
            return 1
        if action.once_per_session and not ns.session_store:
            err.write(
                f"note: {action.name} runs once per session, but without --session-store the "
                "record lives in this process only: another `apiactions call --session "
                f"{ns.session}` sends it again (use --session-store sqlite:///calls.db to "
                "remember it)\n"
            )
        called = pipeline.complete(prepared, ns.session)
        outcome, http = called.artifact, called.response
        if outcome["error_kind"] == "already_ran":
            err.write(
                f"skipped: {action.name} already ran in session {ns.session!r} "
                "(once per session); nothing sent\n"
            )
            return 1
        if outcome["error_kind"] == "limit_reached":
            err.write(f"skipped: {action.name}: {outcome['error']}\n")
            return 1
        if http is None and not outcome.get("cached"):
            # Stopped before sending: the store could not be used, or a rate limit.
            error = str(outcome["error"])
            err.write(f"error: {error}" + ("" if "nothing was sent" in error else "; nothing sent"))
            err.write("\n")
            return 1
        if http is None:
            show.write("< answered from the cache (nothing sent)\n")
        else:
            status = f"{http.status}" if http.status is not None else "no answer"
            show.write(f"< {status} in {http.elapsed_ms:.1f} ms\n")
        for line in ArtifactView(outcome).lines(request=False):
            if line.startswith("✗ "):
                err.write(f"error: {for_cli(line[2:])}\n")
            else:
                show.write(for_cli(line) + "\n")
        body = parse_body(http.body) if http is not None else None
        for name in outcome["missing_fields"]:
            field = next(f for f in action.compiled.fields if f.name == name)
            hints = suggest_paths(body, field.path) if isinstance(body, (dict, list)) else []
            hint = f"; did you mean {' or '.join(hints)}?" if hints else ""
            line = f"missing field: {name} (path {field.path!r} found nothing{hint})"
            show.write(prepared.masker.mask(line) + "\n")
        if ns.json:
            out.write(_json_doc(outcome))
    return 0 if outcome["ok"] else 1


def _confirmed(name: str, err: TextIO) -> bool:
    """Ask on the terminal before a `confirm: true` action; without one, `--yes` is needed.

    Raises:
        _UsageError: when there is no terminal to ask on (nothing is sent).
    """
    if not sys.stdin.isatty():
        msg = (
            f"{name} asks for confirmation (confirm: true) and there is no terminal to ask "
            "on: pass --yes to send it; nothing sent"
        )
        raise _UsageError(msg)
    err.write(f"Send {name} now? [y/N] ")
    err.flush()
    if sys.stdin.readline().strip().lower() in ("y", "yes"):
        return True
    err.write("not confirmed; nothing sent\n")
    return False


def _json_doc(value: Any) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False, default=str) + "\n"
