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


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).parent))
    from run import interleaved, row

    bench_openapi_import(1 if "--quick" in sys.argv else 5, interleaved, row)
