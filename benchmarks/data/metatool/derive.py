"""How `metatool_subset.json` was cut from MetaTool (kept for reproducibility).

Run from a checkout of https://github.com/HowieHwong/MetaTool (commit 35e81bb):

    python derive.py dataset/plugin_des.json dataset/data/all_clean_data.csv

Every one of the 199 tools keeps its description; per tool, the queries are ordered
by the SHA-1 of their text (a fixed, arbitrary order) after dropping any query that
MetaTool lists under two tools; the first 3 become the tool's `examples` and the next 5
its test queries. Nothing else is changed.
"""

import collections
import csv
import hashlib
import json
import sys
from pathlib import Path

EXAMPLES, TESTS = 3, 5


def main(descriptions: str, queries: str) -> None:
    tools: dict[str, str] = json.loads(Path(descriptions).read_text(encoding="utf-8"))
    with Path(queries).open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    owners = collections.defaultdict(set)
    for row in rows:
        owners[row["Query"].strip().casefold()].add(row["Tool"])
    per_tool: dict[str, list[str]] = collections.defaultdict(list)
    for row in rows:
        text = " ".join(row["Query"].split())
        if len(owners[text.casefold()]) == 1 and text not in per_tool[row["Tool"]]:
            per_tool[row["Tool"]].append(text)
    out = {"tools": [], "queries": []}
    for name, description in tools.items():
        ordered = sorted(per_tool[name], key=lambda q: hashlib.sha1(q.encode()).hexdigest())
        out["tools"].append(
            {"name": name, "description": description, "examples": ordered[:EXAMPLES]}
        )
        out["queries"] += [{"query": q, "tool": name} for q in ordered[EXAMPLES : EXAMPLES + TESTS]]
    Path("metatool_subset.json").write_text(
        json.dumps(out, indent=1, ensure_ascii=False) + "\n", encoding="utf-8"
    )


if __name__ == "__main__":
    main(*sys.argv[1:3])
