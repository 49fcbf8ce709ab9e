"""A fast HTTP/1.1 keep-alive JSON server on asyncio, run in its own process.

    python benchmarks/fast_server.py     # prints the port, serves until stdin closes

Every GET answers the same small order JSON (`/large/...` a bigger one), so a benchmark
measures the client, not the server.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import sys

SMALL = json.dumps(
    {
        "order": {
            "id": "12345",
            "status": "Shipped",
            "estimated_delivery": "2026-12-01",
            "tracking": {"carrier": "UPS", "number": "1Z999AA10123456784"},
            "customer": {"name": "Ana Example", "email": "ana@example.com"},
            "items": [{"sku": f"SKU-{i:05d}", "qty": 1, "price": 10.0 + i} for i in range(3)],
        }
    }
).encode()


def _response(body: bytes) -> bytes:
    head = (
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\nConnection: keep-alive\r\n\r\n"
    )
    return head.encode() + body


RESPONSE = _response(SMALL)


async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    sock = writer.get_extra_info("socket")
    if sock is not None:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    try:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            length = 0
            for line in head.split(b"\r\n"):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":", 1)[1])
            if length:
                await reader.readexactly(length)
            writer.write(RESPONSE)
            await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionError):
        pass
    finally:
        writer.close()


async def main() -> None:
    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    print(port, flush=True)
    loop = asyncio.get_running_loop()
    # Serve until the parent closes our stdin (or dies).
    await loop.run_in_executor(None, sys.stdin.read)
    os._exit(0)  # open keep-alive connections need no goodbye


if __name__ == "__main__":
    asyncio.run(main())
