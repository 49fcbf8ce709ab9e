"""Worker processes started together, for the tests that share a store across processes."""

from __future__ import annotations

import subprocess
import sys


def run_together(argv: list[list[str]], timeout: float = 120) -> list[str]:
    """Start `python ARGS...` once per entry, all at once; return each one's stdout.

    Every process is waited for (and its pipes closed) before any is judged: one failing
    worker once left the others running into the next test, whose teardown then failed
    on their unclosed pipes."""
    procs = [
        subprocess.Popen(
            [sys.executable, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        for args in argv
    ]
    try:
        done = [p.communicate(timeout=timeout) for p in procs]
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.communicate()
    for p, (_, stderr) in zip(procs, done):
        assert p.returncode == 0, stderr
    return [stdout for stdout, _ in done]
