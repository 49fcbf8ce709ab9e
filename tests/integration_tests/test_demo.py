"""`apiactions demo` end to end, as a subprocess, and the README quickstart as written."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

from langchain_apiactions.demo_server import DemoStoreServer

ROOT = Path(__file__).resolve().parents[2]


def test_demo_runs_offline_and_shows_the_whole_experience() -> None:
    exe = Path(sys.executable).parent / "apiactions"
    env = {k: v for k, v in os.environ.items() if k not in ("OPENAI_API_KEY", "STORE_API_KEY")}
    start = time.monotonic()
    proc = subprocess.run([str(exe), "demo"], capture_output=True, text=True, timeout=120, env=env)
    took = time.monotonic() - start
    out = proc.stdout
    assert proc.returncode == 0, proc.stderr
    assert took < 30
    assert "Model: OfflineChatModel" in out
    # asks for the missing order number, the visitor gives it, then a GET lookup
    assert "Bot: Sure - could you tell me your order number or tracking number?" in out
    assert re.search(r"→ GET http://127\.0\.0\.1:\d+/orders/12345  ← 200 in [\d.]+ ms", out)
    assert 'fields: status="Shipped", carrier="UPS"' in out
    assert "[button] Track my package -> https://track.example.com/1Z999AA10123456784" in out
    # a POST that creates a ticket with a JSON body
    assert re.search(r"→ POST http://127\.0\.0\.1:\d+/tickets  ← 201", out)
    assert '"requester": {"email": "ana@example.com"}' in out
    # once per session, confirmation, chat closing
    assert "Subscribe_Newsletter already ran in this session" in out
    assert out.count("→ POST http://127.0.0.1") == 3
    assert '? Confirm Cancel_Order with {"order_number": "12345"}?' in out
    assert "Thanks for chatting with us - goodbye!" in out
    assert "✖ chat closed" in out
    assert "demo-store-key" not in out + proc.stderr


def test_readme_quickstart_runs_as_written() -> None:
    readme = (ROOT / "README.md").read_text()
    block = readme.split("## Quickstart", 1)[1].split("```python\n", 1)[1].split("```", 1)[0]
    assert len(block.strip().splitlines()) <= 12
    with DemoStoreServer("demo", port=8765):
        proc = subprocess.run(
            [sys.executable, "-c", block], capture_output=True, text=True, timeout=60
        )
    assert proc.returncode == 0, proc.stderr
    assert '<api_data>{"status": "Shipped", "carrier": "UPS"}</api_data>' in proc.stdout
