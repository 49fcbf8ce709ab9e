"""`apiactions ARGV` run in this process, as many tests run it: the exit code and what
the user reads."""

from __future__ import annotations

import io
import sys

from langchain_apiactions.cli import main


def run_cli_streams(*argv: str) -> tuple[int, str, str]:
    """Exit code, stdout and stderr of the command line."""
    out, err = io.StringIO(), io.StringIO()
    streams = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = out, err
    try:
        code = main(list(argv))
    finally:
        sys.stdout, sys.stderr = streams
    return code, out.getvalue(), err.getvalue()


def run_cli(*argv: str) -> tuple[int, str]:
    """Exit code and everything the user reads (stdout, then stderr)."""
    code, out, err = run_cli_streams(*argv)
    return code, out + err
