"""The `apiactions` command line and its developer tools (demo, inspector, loopback servers).

The core package never imports this subpackage.
"""

from __future__ import annotations

import argparse
import difflib
import json
import sys
from collections.abc import Sequence
from typing import Any, TextIO

from pydantic import ValidationError

from langchain_apiactions.cli import eval_cmd, import_cmd
from langchain_apiactions.cli.wording import for_cli
from langchain_apiactions.config import ApiAction, check_actions
from langchain_apiactions.errors import (
    ActionConfigError,
    ArgumentError,
    MissingContextError,
    ModelSpecError,
    SessionStoreError,
)

# Only the file format loads here: `--help` and `validate` need no LangChain and no HTTP
# stack; each command imports what it uses.

__all__ = ["main"]


_MODEL_HELP = (
    "the chat model: `offline` (the built-in lexical stand-in, not an LLM; no network) or "
    "`openai:<model>` (extra `openai`; OPENAI_BASE_URL points it at any compatible server). "
    "Without --model: openai:gpt-4.1-mini when OPENAI_API_KEY is set, else offline"
)


class _HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
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


def _network_options(p: argparse.ArgumentParser) -> None:
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


def _context_option(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--context",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a trusted context value for {context.NAME} / ${context.NAME}",
    )


def _store_option(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--session-store",
        default=None,
        metavar="URL",
        help="where once-per-session calls are recorded: sqlite:///file.db, "
        "redis://host:6379/0 (default: in memory, this process only)",
    )


def _parse_context(pairs: Sequence[str]) -> dict[str, str]:
    values: dict[str, str] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name:
            msg = f"--context {pair.split('=')[0]!r}: expected NAME=VALUE"
            raise _UsageError(msg)
        values[name.removeprefix("context.")] = value
    return values


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="apiactions",
        description="Declare REST API actions in YAML/JSON and use them as LangChain tools.",
        formatter_class=_HelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name: str, text: str) -> argparse.ArgumentParser:
        return sub.add_parser(name, help=text, description=text, formatter_class=_HelpFormatter)

    v = command("validate", "check an action file: errors and warnings")
    v.add_argument("file", help="the action file (YAML or JSON)")

    c = command("call", "call one action, printing the exact request and the result")
    c.add_argument("file", help="the action file (YAML or JSON)")
    c.add_argument("action", help="the name of the action to call")
    c.add_argument(
        "--arg",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="an input value; repeat for several inputs and for the items of an array",
    )
    _context_option(c)
    c.add_argument("--dry-run", action="store_true", help="print the request without sending it")
    c.add_argument(
        "--session", default="cli", help="session id (for once-per-session and {session_id})"
    )
    c.add_argument(
        "--json",
        action="store_true",
        help="print only the artifact, as one JSON document, on stdout (the rest on stderr)",
    )
    _store_option(c)
    _network_options(c)

    d = command("demo", "the offline demo: a store API and a scripted chat")
    d.add_argument("--model", default=None, help=_MODEL_HELP)
    d.add_argument("--interactive", action="store_true", help="chat yourself instead of the script")

    e = command("eval", "measure which action a model picks for each visitor case")
    eval_cmd.add_arguments(e, _accuracy)

    i = command("inspect", "a local request inspector that prints what it receives")
    i.add_argument("--port", type=int, default=8787, help="the loopback port to listen on")
    i.add_argument("--respond", default='{"ok": true}', metavar="JSON", help="the JSON answer")
    i.add_argument("--status", type=int, default=200, help="the HTTP status to answer with")
    i.add_argument("--record", metavar="FILE", help="append every request as a JSON line")
    i.add_argument("--show-secrets", action="store_true", help="print auth headers in full")

    import_cmd.add_parser(sub)

    ch = command("chat", "chat with the agent over your own action file")
    ch.add_argument("file", help="the action file (YAML or JSON)")
    ch.add_argument("--model", default=None, help=_MODEL_HELP)
    ch.add_argument("--debug", action="store_true", help="show every request and response")
    _context_option(ch)
    _store_option(ch)
    ch.add_argument(
        "--state",
        default=None,
        metavar="URL",
        help="keep the conversation in sqlite:///file.db and resume it on the next run",
    )
    ch.add_argument(
        "--thread", default="cli-chat", help="which conversation of the state file to resume"
    )
    _network_options(ch)

    from langchain_apiactions.cli import mcp_command

    m = command("mcp", "serve the actions to MCP clients (stdio or HTTP)")
    mcp_command.add_arguments(m)
    _network_options(m)
    _context_option(m)
    _store_option(m)
    _show_defaults(parser)
    return parser


def _show_defaults(parser: argparse.ArgumentParser) -> None:
    """Every command's `--help`, however it was added, shows each option's default."""
    parser.formatter_class = _HelpFormatter
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                _show_defaults(sub)


def _accuracy(text: str) -> float:
    """`0.8`, `80` or `80%` -> 0.8."""
    try:
        value = float(text.strip().rstrip("%"))
    except ValueError:
        msg = f"{text!r} is not an accuracy (0.8, 80 or 80%)"
        raise argparse.ArgumentTypeError(msg) from None
    value = value / 100 if value > 1 or text.strip().endswith("%") else value
    if not 0 <= value <= 1:
        msg = f"{text!r} is not an accuracy between 0 and 100%"
        raise argparse.ArgumentTypeError(msg)
    return value


def _did_you_mean(name: str, known: Sequence[str]) -> str:
    close = difflib.get_close_matches(name, list(known), n=1, cutoff=0.6)
    return f"did you mean {close[0]!r}?; " if close else ""


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
    out.write(f"{file}: {len(report.actions)} action(s) OK, {len(report.warnings)} warning(s)\n")
    return 0


class _UsageError(Exception):
    """A command line that cannot be run as given (exit 2, message on stderr)."""


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
                f"({_did_you_mean(name, known)}inputs: {listed})"
            )
            raise _UsageError(msg)
    for inp in action.inputs:
        if inp.array and inp.name in raw and not isinstance(raw[inp.name], list):
            raw[inp.name] = [raw[inp.name]]
    return raw


def cmd_call(ns: argparse.Namespace, out: TextIO, err: TextIO) -> int:

    from langchain_apiactions.config import load_actions
    from langchain_apiactions.extract import suggest_paths
    from langchain_apiactions.result import ArtifactView, parse_body
    from langchain_apiactions.tool import build_args_schema, validation_problems
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
            f"({_did_you_mean(ns.action, names)}actions: {', '.join(names)})\n"
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
    ) as toolkit:
        tool = toolkit.get_tool(action.name)
        context = _parse_context(ns.context)
        for name in action.context_names():
            given = "given" if context.get(name) else "MISSING: pass --context " + name + "=VALUE"
            show.write(f"context.{name}: {given}\n")
        try:
            args = build_args_schema(action).model_validate(raw).model_dump()
            prepared = tool.prepare(args, ns.session, context)
        except MissingContextError as e:
            err.write(f"error: {e}\n")
            return 2
        except (ValidationError, ArgumentError) as e:
            if isinstance(e, ValidationError):
                problems = validation_problems(e, action)
            else:
                problems = [("", f"invalid argument: {e}")]
            for where, problem in problems:
                err.write(f"error: --arg {where}: {problem}\n" if where else f"error: {problem}\n")
            if ns.json:  # the artifact of a call whose arguments were refused
                refused = tool.invoke(
                    {"name": tool.name, "args": raw, "id": "cli", "type": "tool_call"},
                    config={"configurable": {"session_id": ns.session}},
                )
                out.write(_json_doc(refused.artifact))
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
        if action.once_per_session:
            try:
                claimed = toolkit.session_store.claim(ns.session, action.name)
            except SessionStoreError as e:
                err.write(f"error: {e}; nothing sent\n")
                return 1
            if not claimed:
                err.write(
                    f"skipped: {action.name} already ran in session {ns.session!r} "
                    "(once per session); nothing sent\n"
                )
                return 1
        outcome, http = tool.execute(ns.session, prepared)
        status = f"{http.status}" if http.status is not None else "no answer"
        show.write(f"< {status} in {http.elapsed_ms:.1f} ms\n")
        for line in ArtifactView(outcome).lines(request=False):
            if line.startswith("✗ "):
                err.write(f"error: {for_cli(line[2:])}\n")
            else:
                show.write(for_cli(line) + "\n")
        body = parse_body(http.body)
        for name in outcome["missing_fields"]:
            field = next(f for f in action.compiled.fields if f.name == name)
            hints = suggest_paths(body, field.path) if isinstance(body, (dict, list)) else []
            hint = f"; did you mean {' or '.join(hints)}?" if hints else ""
            line = f"missing field: {name} (path {field.path!r} found nothing{hint})"
            show.write(prepared.masker.mask(line) + "\n")
        if ns.json:
            out.write(_json_doc(outcome))
    return 0 if outcome["ok"] else 1


def _json_doc(value: Any) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False, default=str) + "\n"


def cmd_inspect(ns: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from langchain_apiactions.cli.inspector import RequestInspector

    try:
        respond = json.loads(ns.respond)
    except ValueError as e:
        err.write(f"error: --respond is not valid JSON ({e})\n")
        return 2
    inspector = RequestInspector(
        port=ns.port,
        respond=respond,
        status=ns.status,
        record=ns.record,
        out=out,
        show_secrets=ns.show_secrets,
    )
    out.write(
        f"Inspecting requests on {inspector.url} (answering {ns.status} {ns.respond}); "
        "Ctrl-C stops.\n"
    )
    out.flush()
    try:
        inspector.serve_forever()
    except KeyboardInterrupt:
        out.write(f"\n{len(inspector.requests)} request(s) received.\n")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `apiactions` command."""
    ns = _parser().parse_args(argv)
    out, err = sys.stdout, sys.stderr
    try:
        if ns.command == "import":
            return import_cmd.run(ns, out, err)
        if ns.command == "validate":
            return cmd_validate(ns.file, out, err)
        if ns.command == "call":
            return cmd_call(ns, out, err)
        if ns.command == "eval":
            return eval_cmd.run(ns, out, err)
        if ns.command == "inspect":
            return cmd_inspect(ns, out, err)
        if ns.command == "mcp":
            from langchain_apiactions.cli.mcp_command import cmd_mcp

            return cmd_mcp(ns, _parse_context(ns.context))
        if ns.command == "demo":
            from langchain_apiactions.cli.demo import run_demo

            return run_demo(model=ns.model, interactive=ns.interactive, out=out)
        if ns.command == "chat":
            from langchain_apiactions.cli.demo import run_chat

            return run_chat(
                ns.file,
                model=ns.model,
                debug=ns.debug,
                out=out,
                context=_parse_context(ns.context),
                state=ns.state,
                thread_id=ns.thread,
                **({"session_store": ns.session_store} if ns.session_store else {}),
                allow_private_networks=ns.allow_private_networks,
                allowed_hosts=ns.allow_host,
                allowed_networks=ns.allow_network,
            )
    except ActionConfigError as e:
        # Configuration errors name variables, never their values.
        err.write(f"error: {e}\n")
        return 1
    except (ModelSpecError, _UsageError, eval_cmd.UsageError) as e:
        err.write(f"error: {e}\n")
        return 2
    except SessionStoreError as e:
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
    return 2


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
