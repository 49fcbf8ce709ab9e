"""Unit tests open no sockets: a test that binds, connects or resolves a name fails.

A test that needs a real server (loopback HTTP, Redis) belongs in `integration_tests`.
Every attempt is recorded and fails the test at teardown, also when the code under test
caught the error (a call turns a failed connection into data). Unix sockets stay
allowed: asyncio's event loop wakes itself through a socket pair.
"""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator
from typing import Any

import pytest


class SocketRefused(OSError):
    """What a unit test gets when it tries to reach a network."""


@pytest.fixture(autouse=True)
def socket_attempts(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    attempts: list[str] = []

    def guard(name: str, original: Callable[..., Any]) -> Callable[..., Any]:
        def refused(sock: socket.socket, *args: Any) -> Any:
            if sock.family == socket.AF_UNIX:
                return original(sock, *args)
            attempts.append(f"socket.{name}{args!r}")
            raise SocketRefused(f"unit tests open no sockets: socket.{name}{args!r}")

        return refused

    for name in ("bind", "connect", "connect_ex"):
        monkeypatch.setattr(socket.socket, name, guard(name, getattr(socket.socket, name)))

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        attempts.append(f"socket.getaddrinfo({host!r})")
        raise socket.gaierror(f"unit tests resolve no names: {host!r}")

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    yield attempts
    assert not attempts, f"a unit test tried to reach a network: {attempts} (integration_tests?)"
