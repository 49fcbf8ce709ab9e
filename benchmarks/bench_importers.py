"""Import time for a large OpenAPI document (the 1,077-operation Kubernetes API, 5.5 MB).

    python benchmarks/bench_importers.py [--quick]

`benchmarks/run.py` calls `bench_openapi_import`. The baseline is the least any script
of a user's must do with the document: parse its JSON.
"""

from __future__ import annotations

import gzip
import json
import statistics
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from langchain_apiactions.importers import import_openapi

DOCUMENT = Path(__file__).parents[1] / "tests" / "data" / "openapi" / "kubernetes-2.0.json.gz"
PICK = "listCoreV1NamespacedPod,createCoreV1NamespacedPod,readCoreV1NamespacedPod"
Interleave = Callable[[Callable[[], Any], Callable[[], Any], int], tuple[list[float], list[float]]]
Row = Callable[[str, str, str, Any, str], None]


def bench_openapi_import(n: int, interleaved: Interleave, row: Row) -> None:
    with gzip.open(DOCUMENT, "rt", encoding="utf-8") as f:
        text = f.read()
    base = "https://k8s.example.com"
    ops = len(import_openapi(json.loads(text), base_url=base).actions)

    def whole() -> None:
        import_openapi(json.loads(text), base_url=base).mapping()

    def picked() -> None:
        import_openapi(json.loads(text), operations=PICK, base_url=base).mapping()

    def whole_yaml() -> None:
        import_openapi(json.loads(text), base_url=base).to_yaml()

    def parse() -> None:
        json.loads(text)

    for what, ours in (
        (f"7a. import all {ops} operations (5.5 MB JSON) vs parsing the JSON", whole),
        ("7b. import 3 operations (--operations) of the same", picked),
        (f"7c. import all {ops} and write the commented YAML", whole_yaml),
    ):
        ta, tb = interleaved(ours, parse, n)
        m_ours, m_base = statistics.median(ta), statistics.median(tb)
        row(what, f"{m_ours * 1000:,.0f} ms", f"{m_base * 1000:,.0f} ms", m_ours / m_base,
            "(reported)")  # fmt: skip


TWILIO = DOCUMENT.parent / "twilio-verify-v2-3.0.yaml"
_METHODS = {"get", "put", "post", "delete", "patch", "head", "options"}


def thousand_operations() -> str:
    """An OpenAPI 3.0 document of about 1,000 operations: Twilio Verify's 57, copied under
    18 path prefixes (its `$ref`s, request bodies and security kept). FastMCP reads no
    Swagger 2.0, so the Kubernetes document cannot be the one here."""
    import copy

    import yaml

    src = yaml.safe_load(TWILIO.read_text(encoding="utf-8"))
    ops = sum(1 for item in src["paths"].values() for m in item if m in _METHODS)
    doc = copy.deepcopy(src)
    doc["paths"] = {}
    for k in range(-(-1000 // ops)):
        for path, item in src["paths"].items():
            item = copy.deepcopy(item)
            for m, op in item.items():
                if m in _METHODS and "operationId" in op:
                    op["operationId"] = f"{op['operationId']}{k}"
            doc["paths"][f"/c{k}{path}"] = item
    return json.dumps(doc)


def bench_vs_fastmcp(n: int, interleaved: Interleave, row: Row) -> None:
    """Row 7d: import and build every tool of a 1,000-operation document vs FastMCP's
    `from_openapi` listing its tools, both from the JSON text (ours parses it; FastMCP takes
    a dict, parsed by `json.loads` inside the timed call)."""
    try:
        import httpx
        from fastmcp import FastMCP
    except ImportError:
        print("7d. skipped: fastmcp is not installed (pip install -e '.[bench]')")
        return
    import asyncio

    from langchain_apiactions import ApiActionsToolkit
    from langchain_apiactions.importers import from_openapi

    text = thousand_operations()
    base = "https://verify.example.com"
    env = {"TWILIO_VERIFY_USERNAME": "bench-user-7f3a", "TWILIO_VERIFY_PASSWORD": "bench-pass-7f3a"}

    def ours() -> int:
        # The text as a user passes it (a path works the same): JSON text cannot share
        # values, so the YAML alias count that a dict of unknown origin needs is skipped.
        mapping = from_openapi(text, base_url=base)
        return len(ApiActionsToolkit(actions=mapping, env=env).get_tools())

    def theirs() -> int:
        server = FastMCP.from_openapi(json.loads(text), client=httpx.AsyncClient(base_url=base))
        return len(asyncio.run(server.get_tools()))

    count = ours()
    assert theirs() == count, "both build every operation"
    ta, tb = interleaved(ours, theirs, n)
    m_ours, m_theirs = statistics.median(ta), statistics.median(tb)
    row(f"7d. import + build {count} operations (OpenAPI 3.0) vs FastMCP from_openapi + list tools",
        f"{m_ours * 1000:,.0f} ms", f"{m_theirs * 1000:,.0f} ms", m_ours / m_theirs, "<= 1.00")  # fmt: skip


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).parent))
    from run import interleaved, row

    bench_openapi_import(1 if "--quick" in sys.argv else 5, interleaved, row)
    bench_vs_fastmcp(3 if "--quick" in sys.argv else 7, interleaved, row)
