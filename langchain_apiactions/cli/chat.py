"""`apiactions chat FILE`: chat with the agent over your own action file."""

from __future__ import annotations

import argparse
from typing import Any, TextIO

from langchain_apiactions.cli.options import (
    MODEL_HELP,
    add_command,
    cassette_option,
    cassette_options,
    context_option,
    network_options,
    parse_context,
    store_option,
)

__all__ = ["add_parser", "run"]


def add_parser(sub: Any) -> None:
    ch = add_command(sub, "chat")
    ch.add_argument("file", help="the action file (YAML or JSON)")
    ch.add_argument("--model", default=None, help=MODEL_HELP)
    ch.add_argument("--debug", action="store_true", help="show every request and response")
    context_option(ch)
    store_option(ch)
    cassette_option(ch)
    ch.add_argument(
        "--state",
        default=None,
        metavar="URL",
        help="keep the conversation in sqlite:///file.db and resume it on the next run",
    )
    ch.add_argument(
        "--thread", default="cli-chat", help="which conversation of the state file to resume"
    )
    network_options(ch)


def run(ns: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from langchain_apiactions.cli.demo import run_chat

    return run_chat(
        ns.file,
        model=ns.model,
        debug=ns.debug,
        out=out,
        context=parse_context(ns.context),
        state=ns.state,
        thread_id=ns.thread,
        **({"session_store": ns.session_store} if ns.session_store else {}),
        allow_private_networks=ns.allow_private_networks,
        allowed_hosts=ns.allow_host,
        allowed_networks=ns.allow_network,
        **cassette_options(ns),
    )
