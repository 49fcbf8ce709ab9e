"""`apiactions import openapi|curl`: write an action file for a person to curate."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any, TextIO

from langchain_apiactions.cli.options import add_command
from langchain_apiactions.errors import ImportSpecError

__all__ = ["add_parser", "run"]


def add_parser(sub: Any) -> None:
    """Register `import openapi` and `import curl` on the `apiactions` subparsers."""
    p = add_command(sub, "import")
    kinds = p.add_subparsers(
        dest="import_kind", required=True, help="what to import from: openapi or curl"
    )
    text = "one action per operation of an OpenAPI 3.x / Swagger 2.0 document"
    o = kinds.add_parser("openapi", help=text, description=text)
    o.add_argument("spec", help="the document, YAML or JSON (- reads standard input)")
    o.add_argument(
        "--operations",
        metavar="ID,ID",
        help="only these operations: operationIds or 'METHOD /path', comma-separated",
    )
    o.add_argument(
        "--base-url", metavar="URL", help="the API's address, replacing the document's servers"
    )
    text = "one action from a cURL command as API docs print it"
    c = kinds.add_parser("curl", help=text, description=text)
    c.add_argument(
        "curl_command", metavar="COMMAND", help="the whole command, quoted (- reads standard input)"
    )
    for parser in (o, c):
        parser.add_argument(
            "-o", "--output", metavar="FILE", help="write the action file here (default: print it)"
        )
        parser.add_argument("--force", action="store_true", help="overwrite FILE if it exists")


def _write(path: Path, text: str, *, force: bool) -> None:
    """Create `path` exclusively: never through an existing file or link, a dangling one
    included. With `force`, overwrite what is there, as asked."""
    data = text.encode("utf-8")
    if force:
        path.write_bytes(data)
        return
    _create(path, data)


def _create(path: Path, data: bytes) -> None:
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    fd = os.open(path, flags, 0o666)
    with os.fdopen(fd, "wb") as f:
        f.write(data)


def run(ns: argparse.Namespace, out: TextIO, err: TextIO | None = None) -> int:
    """Run `apiactions import ...`; the YAML goes to `out` (or FILE), messages to `err`."""
    from langchain_apiactions.importers import import_curl, import_openapi

    err = err if err is not None else sys.stderr
    # `lexists`: a dangling symlink is an existing path too (`exists` follows it).
    if ns.output and os.path.lexists(ns.output) and not ns.force:
        err.write(f"error: {ns.output} exists; pass --force to overwrite it\n")
        return 2
    try:
        if ns.import_kind == "openapi":
            spec: Any = sys.stdin.read() if ns.spec == "-" else ns.spec
            result = import_openapi(spec, operations=ns.operations, base_url=ns.base_url)
        else:
            command = sys.stdin.read() if ns.curl_command == "-" else ns.curl_command
            result = import_curl(command)
        text = result.to_yaml()  # read back before anything is written
    except ImportSpecError as e:
        err.write(f"error: {e}\n")
        return 1
    from langchain_apiactions.config import check_actions

    # What `apiactions validate` will say about the file (the overlap check is quadratic).
    report = check_actions(result.mapping(), overlap=len(result.actions) <= 200)
    if ns.output:
        try:
            _write(Path(ns.output), text, force=ns.force)
        except FileExistsError:  # created since the check above
            err.write(f"error: {ns.output} exists; pass --force to overwrite it\n")
            return 2
        except OSError as e:
            err.write(f"error: cannot write {ns.output}: {e.strerror or e}\n")
            return 1
        out.write(f"wrote {len(result.actions)} action(s) to {ns.output}\n")
    else:
        out.write(text)
    for line in [*result.warnings, *result.secrets_already_set(os.environ)]:
        err.write(f"warning: {line}\n")
    for line in report.errors:
        err.write(f"error: {line}\n")
    if report.errors:
        return 1
    target = ns.output or "FILE"
    if result.secrets:
        err.write("set these secrets in the environment: " + ", ".join(result.secrets) + "\n")
    err.write(
        f"next: curate {target} (the comments say what needs you), then "
        f"`apiactions validate {target}` and `apiactions eval {target} CASES`\n"
    )
    return 0
