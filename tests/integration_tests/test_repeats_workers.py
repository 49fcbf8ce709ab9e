"""Three worker processes on one store (a SQLite file, a real redis-server) place orders
at an API that commits and then fails: with `idempotency_key` no order is placed twice and
every visitor is told the truth; without it, today's duplicates (benchmarks/soak.py)."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import pytest

from tests.redisserver import RedisServer

SOAK = Path(__file__).resolve().parents[2] / "benchmarks" / "soak.py"


def _soak() -> ModuleType:
    spec = importlib.util.spec_from_file_location("apiactions_soak", SOAK)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("kind", ["sqlite", "redis"])
def test_three_workers_place_each_order_once(kind: str, tmp_path: Path) -> None:
    soak = _soak()
    server = RedisServer(tmp_path).start() if kind == "redis" else None
    try:
        url = server.url if server is not None else f"sqlite:///{tmp_path / 's.db'}"
        keyed = soak.soak_repeats(url, keys=True, sessions=6)
        assert keyed["duplicates"] == 0 and keyed["untrue"] == 0
        assert keyed["orders"] == 6  # every session's order placed, once
        assert keyed["tries"] == 10  # the 500s and the timeouts were tried again once
        other = server.url[:-1] + "1" if server is not None else f"sqlite:///{tmp_path / 'b.db'}"
        baseline = soak.soak_repeats(other, keys=False, sessions=3)
        assert baseline["duplicates"] > 0  # what the keys prevent
    finally:
        if server is not None:
            server.stop()
