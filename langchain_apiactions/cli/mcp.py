"""`apiactions mcp FILE`: serve an action file to MCP clients (stdio or streamable HTTP).

On stdio, stdout carries the protocol: everything else (errors, logs, the HTTP URL) goes
to stderr, through a handler that masks every secret.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Mapping
from typing import Any, TextIO

from langchain_apiactions.cli.options import (
    add_command,
    context_option,
    network_options,
    parse_context,
    store_option,
)
from langchain_apiactions.errors import ActionConfigError
from langchain_apiactions.redact import SecretMaskingFilter

__all__ = ["add_arguments", "add_parser", "cmd_mcp", "run"]


def add_parser(sub: Any) -> None:
    m = add_command(sub, "mcp")
    add_arguments(m)
    network_options(m)
    context_option(m)
    store_option(m)


def run(ns: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    return cmd_mcp(ns, parse_context(ns.context))


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("file", help="the action file (YAML or JSON)")
    p.add_argument(
        "--transport", choices=("stdio", "http"), default="stdio", help="stdio (default) or http"
    )
    p.add_argument("--host", default="127.0.0.1", help="HTTP: the address to listen on")
    p.add_argument("--port", type=int, default=8000, help="HTTP: the port (0: a free one)")
    p.add_argument("--path", default="/mcp", help="HTTP: the endpoint path")
    p.add_argument(
        "--allowed-host",
        action="append",
        default=[],
        metavar="NAME",
        help="HTTP: a Host name clients may use besides the bind address (NAME or "
        "NAME:PORT; repeat for more); any other Host is refused (DNS rebinding)",
    )
    p.add_argument(
        "--auth-token-env",
        metavar="NAME",
        help="HTTP: require 'Authorization: Bearer <token>', the token being the value "
        "of the environment variable NAME (401 otherwise)",
    )
    p.add_argument(
        "--stateless",
        action="store_true",
        help="HTTP: no MCP sessions (every call is its own once-per-session session)",
    )
    p.add_argument("--name", default="apiactions", help="the server name shown to clients")
    p.add_argument(
        "--select",
        type=int,
        metavar="K",
        help="serve find_actions (the K best for a query) and call_action instead of one "
        "tool per action, for large catalogues",
    )
    p.add_argument(
        "--log-level",
        choices=("debug", "info", "warning", "error"),
        default="warning",
        help="what goes to stderr (secrets masked)",
    )


def _logging(level: str, err: TextIO) -> logging.Handler:
    handler = logging.StreamHandler(err)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    return handler


def cmd_mcp(
    ns: argparse.Namespace, context: Mapping[str, str] | None = None, err: TextIO | None = None
) -> int:
    from langchain_apiactions.mcp_server import serve
    from langchain_apiactions.toolkit import ApiActionsToolkit

    err = err or sys.stderr
    handler = _logging(ns.log_level, err)
    try:
        toolkit = ApiActionsToolkit.from_file(
            ns.file,
            allow_private_networks=ns.allow_private_networks,
            allowed_hosts=ns.allow_host,
            allowed_networks=ns.allow_network,
            **({"session_store": ns.session_store} if ns.session_store else {}),
        )
    except ActionConfigError as e:
        err.write(f"error: {e}\n")  # configuration errors name variables, never values
        return 1
    # On the handler, not on loggers: it masks the records of every library (the SDK's too).
    handler.addFilter(SecretMaskingFilter(toolkit.runtime.masker))
    if ns.select is not None and ns.select < 1:
        err.write(f"error: --select must be 1 or more (got {ns.select})\n")
        toolkit.close()
        return 2
    try:
        server = toolkit.to_mcp_server(
            name=ns.name,
            context=context,
            select=ns.select,
            allowed_hosts=ns.allowed_host,
            auth_token_env=ns.auth_token_env if ns.transport == "http" else None,
        )
    except ActionConfigError as e:
        toolkit.close()
        err.write(f"error: {e}\n")  # names the variable, never its value
        return 1
    names = (
        ", ".join(a.name for a in toolkit.actions)
        if ns.select is None
        else f"find_actions, call_action (top {ns.select} of {len(toolkit.actions)} actions)"
    )

    def ready(url: str) -> None:
        err.write(f"apiactions MCP server on {url} (streamable HTTP); tools: {names}\n")
        err.flush()

    try:
        if ns.transport == "http":
            serve(
                server,
                "http",
                host=ns.host,
                port=ns.port,
                path=ns.path,
                stateless=ns.stateless,
                on_ready=ready,
                log_level=ns.log_level,
            )
        else:
            serve(server, "stdio")
    except KeyboardInterrupt:
        pass
    finally:
        toolkit.close()
    return 0
