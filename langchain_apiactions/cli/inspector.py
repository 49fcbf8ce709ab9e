"""`apiactions inspect`: a local request inspector (the walkthrough's webhook.site step).

The server itself (`RequestInspector`, in `inspector_server`) loads when the command runs,
so `--help` and `validate` never load an HTTP server.
"""

from __future__ import annotations

import argparse
import json
from typing import Any, TextIO

from langchain_apiactions.cli.options import add_command

__all__ = ["add_parser", "cmd_inspect", "run"]


def add_parser(sub: Any) -> None:
    i = add_command(sub, "inspect")
    i.add_argument("--port", type=int, default=8787, help="the loopback port to listen on")
    i.add_argument("--respond", default='{"ok": true}', metavar="JSON", help="the JSON answer")
    i.add_argument("--status", type=int, default=200, help="the HTTP status to answer with")
    i.add_argument("--record", metavar="FILE", help="append every request as a JSON line")
    i.add_argument("--show-secrets", action="store_true", help="print auth headers in full")


def run(ns: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    return cmd_inspect(ns, out, err)


def cmd_inspect(ns: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    try:
        respond = json.loads(ns.respond)
    except ValueError as e:
        err.write(f"error: --respond is not valid JSON ({e})\n")
        return 2
    from langchain_apiactions.cli.inspector_server import RequestInspector

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
