"""`apiactions ARGV` as many tests run it: in this process (the exit code and what the
user reads), or as its own process with a visitor's lines on its standard input."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

from langchain_apiactions.cli import main

EXE = Path(sys.executable).parent / "apiactions"


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


def apiactions_process(
    *argv: str, stdin: str, env: Mapping[str, str] | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    """`apiactions ARGV` as its own process (the installed command), `stdin` on its
    standard input. The machine's OPENAI_API_KEY is not passed on; `env` is added."""
    environ = {k: v for k, v in os.environ.items() if k != "OPENAI_API_KEY"} | dict(env or {})
    return subprocess.run(
        [str(EXE), *argv],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=environ,
    )
