"""The unit folder's socket guard (conftest) refuses a connection, a bind and a lookup."""

from __future__ import annotations

import socket

import pytest

from tests.unit_tests.conftest import SocketRefused


def test_a_unit_test_cannot_reach_a_network(socket_attempts: list[str]) -> None:
    with socket.socket() as s, pytest.raises(SocketRefused):
        s.connect(("127.0.0.1", 9))
    with socket.socket() as s, pytest.raises(SocketRefused):
        s.bind(("127.0.0.1", 0))
    with pytest.raises(socket.gaierror):
        socket.getaddrinfo("example.com", 443)
    assert len(socket_attempts) == 3  # each attempt recorded: it would fail the test
    socket_attempts.clear()


def test_unix_sockets_stay_allowed() -> None:
    a, b = socket.socketpair()
    with a, b:
        a.sendall(b"x")
        assert b.recv(1) == b"x"
