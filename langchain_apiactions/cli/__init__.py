"""The `apiactions` command line and its developer tools (demo, inspector, loopback servers).

The core package never imports this subpackage.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from typing import Any, TextIO

from pydantic import ValidationError

from langchain_apiactions.cli import import_cmd
from langchain_apiactions.config import check_actions
from langchain_apiactions.errors import (
    ActionConfigError,
    ArgumentError,
    MissingContextError,
    ModelSpecError,
)
from langchain_apiactions.redact import call_secrets, mask

# Only the file format loads here: `--help` and `validate` need no LangChain and no HTTP
# stack; each command imports what it uses.

__all__ = ["main"]


def _network_options(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--allow-private-networks",
        action="store_true",
        help="allow loopback/private addresses (local servers, the inspector)",
    )
    p.add_argument(
        "--allow-host", action="append", default=[], metavar="HOST", help="allow this host name"
    )
    p.add_argument(
        "--allow-network", action="append", default=[], metavar="CIDR", help="allow this network"
    )


def _context_option(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--context",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a trusted context value for {context.NAME} / ${context.NAME} (repeat)",
    )


def _parse_context(pairs: Sequence[str]) -> dict[str, str]:
    values: dict[str, str] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name:
            msg = f"--context {pair.split('=')[0]!r}: expected NAME=VALUE"
            raise SystemExit(msg)
        values[name.removeprefix("context.")] = value
    return values


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="apiactions",
        description="Declare REST API actions in YAML/JSON and use them as LangChain tools.",
    )
    sub = parser.add_subparsers(dest="command", required=True)

    v = sub.add_parser("validate", help="check an action file: errors and warnings")
    v.add_argument("file")

    c = sub.add_parser("call", help="call one action, printing the exact request and the result")
    c.add_argument("file")
    c.add_argument("action")
    c.add_argument(
        "--arg",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="an input value (repeat for arrays)",
    )
    _context_option(c)
    c.add_argument("--dry-run", action="store_true", help="print the request without sending it")
    c.add_argument(
        "--session", default="cli", help="session id (for once-per-session and {session_id})"
    )
    c.add_argument("--json", action="store_true", help="print the artifact as JSON")
    _network_options(c)

    d = sub.add_parser("demo", help="the offline demo: a store API and a scripted chat")
    d.add_argument("--model", default=None, help="offline (default) or openai:<model>")
    d.add_argument("--interactive", action="store_true", help="chat yourself instead of the script")

    e = sub.add_parser("eval", help="measure which action a model picks for each visitor case")
    e.add_argument("file")
    e.add_argument("cases", help="YAML: utterance (or turns), expect, optional args")
    e.add_argument("--model", default=None, help="offline (default) or openai:<model>")
    e.add_argument("--repeat", type=int, default=1, help="samples per case (stability)")
    e.add_argument("--compare", metavar="FILE2", help="a second action file (A/B descriptions)")
    e.add_argument("--json", metavar="OUT", help="write the results as JSON")
    e.add_argument("--workers", type=int, default=8, help="cases run in parallel")

    i = sub.add_parser("inspect", help="a local request inspector that prints what it receives")
    i.add_argument("--port", type=int, default=8787)
    i.add_argument("--respond", default='{"ok": true}', metavar="JSON", help="the JSON answer")
    i.add_argument("--status", type=int, default=200, help="the HTTP status to answer with")
    i.add_argument("--record", metavar="FILE", help="append every request as a JSON line")
    i.add_argument("--show-secrets", action="store_true", help="print auth headers in full")

    import_cmd.add_parser(sub)

    ch = sub.add_parser("chat", help="chat with the agent over your own action file")
    ch.add_argument("file")
    ch.add_argument("--model", default=None, help="offline (default) or openai:<model>")
    ch.add_argument("--debug", action="store_true", help="show every request and response")
    _context_option(ch)
    _network_options(ch)
    return parser


def cmd_validate(file: str, out: TextIO) -> int:
    report = check_actions(file)
    for line in report.errors:
        out.write(f"error: {line}\n")
    for line in report.warnings:
        out.write(f"warning: {line}\n")
    if report.errors:
        out.write(f"{file}: {len(report.errors)} error(s), {len(report.warnings)} warning(s)\n")
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
    out.write(f"{file}: {len(report.actions)} action(s) OK, {len(report.warnings)} warning(s)\n")
    return 0


def _parse_args(pairs: Sequence[str]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for pair in pairs:
        if "=" not in pair:
            msg = f"--arg {pair!r}: expected NAME=VALUE"
            raise SystemExit(msg)
        name, value = pair.split("=", 1)
        if name in values:
            prev = values[name]
            values[name] = [*prev, value] if isinstance(prev, list) else [prev, value]
        else:
            values[name] = value
    return values


def cmd_call(ns: argparse.Namespace, out: TextIO) -> int:
    from langchain_apiactions.extract import suggest_paths
    from langchain_apiactions.result import ArtifactView, parse_body
    from langchain_apiactions.tool import build_args_schema, describe_validation_error
    from langchain_apiactions.toolkit import ApiActionsToolkit

    toolkit = ApiActionsToolkit.from_file(
        ns.file,
        allow_private_networks=ns.allow_private_networks,
        allowed_hosts=ns.allow_host,
        allowed_networks=ns.allow_network,
    )
    try:
        tool = toolkit.get_tool(ns.action)
    except KeyError:
        names = ", ".join(t.name for t in toolkit.get_tools())
        out.write(f"error: {ns.file}: no action named {ns.action!r} (actions: {names})\n")
        return 2
    raw = _parse_args(ns.arg)
    schema = tool.action.inputs
    for inp in schema:
        if inp.array and inp.name in raw and not isinstance(raw[inp.name], list):
            raw[inp.name] = [raw[inp.name]]
    try:
        args = build_args_schema(tool.action).model_validate(raw).model_dump()
    except ValidationError as e:
        out.write(f"error: {describe_validation_error(e, tool.action)}\n")
        return 2
    context = _parse_context(ns.context)
    for name in tool.action.context_names():
        given = "given" if context.get(name) else "MISSING: pass --context " + name + "=VALUE"
        out.write(f"context.{name}: {given}\n")
    try:
        prepared = tool.prepare(args, ns.session, context)
    except ArgumentError as e:
        out.write(f"error: invalid argument: {e}\n")
        return 2
    except MissingContextError as e:
        out.write(f"error: {e}\n")
        return 2
    out.write(f"> {prepared.method} {prepared.display_url}\n")
    for k, v in prepared.display_headers.items():
        out.write(f"> {k}: {v}\n")
    if prepared.display_body is not None:
        try:
            shown = json.dumps(json.loads(prepared.display_body), indent=2, ensure_ascii=False)
        except ValueError:  # a form body
            shown = prepared.display_body
        out.write(shown + "\n")
    if ns.dry_run:
        out.write("(dry run: nothing sent)\n")
        return 0
    with call_secrets(prepared.context_secrets, prepared.context_private):
        outcome, http = tool.execute(ns.session, prepared)
    status = f"{http.status}" if http.status is not None else "no answer"
    out.write(f"< {status} in {http.elapsed_ms:.1f} ms\n")
    if ns.json:
        out.write(json.dumps(outcome, indent=2, ensure_ascii=False, default=str) + "\n")
    for line in ArtifactView(outcome).lines(request=False):
        out.write(line + "\n")
    body = parse_body(http.body)
    for name in outcome["missing_fields"]:
        field = next(f for f in tool.action.compiled.fields if f.name == name)
        hints = suggest_paths(body, field.path) if isinstance(body, (dict, list)) else []
        hint = f"; did you mean {' or '.join(hints)}?" if hints else ""
        out.write(f"missing field: {name} (path {field.path!r} found nothing{hint})\n")
    toolkit.close()
    return 0 if outcome["ok"] else 1


def cmd_eval(ns: argparse.Namespace, out: TextIO) -> int:
    from langchain_apiactions.cli.demo import load_model
    from langchain_apiactions.evaluation import (
        compare_results,
        evaluate,
        load_cases,
        progress_bar,
    )

    model = load_model(ns.model)
    cases = load_cases(ns.cases)
    options = {"repeat": ns.repeat, "max_workers": ns.workers, "progress": progress_bar()}
    result = evaluate(ns.file, cases, model, **options)
    out.write(result.report() + "\n")
    data = result.to_dict()
    if ns.compare:
        other = evaluate(ns.compare, cases, model, **options)
        out.write("\n" + other.report() + "\n\n" + compare_results(result, other) + "\n")
        data["compare"] = other.to_dict()
    if ns.json:
        with open(ns.json, "w", encoding="utf-8") as f:
            json.dump(data, f, indent=2, ensure_ascii=False, default=str)
        out.write(f"results written to {ns.json}\n")
    return 0


def cmd_inspect(ns: argparse.Namespace, out: TextIO) -> int:
    from langchain_apiactions.cli.inspector import RequestInspector

    try:
        respond = json.loads(ns.respond)
    except ValueError as e:
        out.write(f"error: --respond is not valid JSON ({e})\n")
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
    out = sys.stdout
    try:
        if ns.command == "import":
            return import_cmd.run(ns, out)
        if ns.command == "validate":
            return cmd_validate(ns.file, out)
        if ns.command == "call":
            return cmd_call(ns, out)
        if ns.command == "eval":
            return cmd_eval(ns, out)
        if ns.command == "inspect":
            return cmd_inspect(ns, out)
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
                allow_private_networks=ns.allow_private_networks,
                allowed_hosts=ns.allow_host,
                allowed_networks=ns.allow_network,
            )
    except ActionConfigError as e:
        out.write(mask(f"error: {e}") + "\n")
        return 1
    except ModelSpecError as e:
        out.write(f"error: {e}\n")
        return 2
    except ModuleNotFoundError as e:
        if e.name and e.name.split(".")[0] in ("langchain", "langgraph"):
            out.write(
                f"error: `apiactions {ns.command}` needs the agent extra: "
                "pip install 'langchain-apiactions[agent]'\n"
            )
            return 2
        raise
    return 2


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
