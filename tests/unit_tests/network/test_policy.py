"""The network policy's address classification, and refusal before connecting."""

from __future__ import annotations

import ipaddress

import pytest

from langchain_apiactions.network import NetworkPolicy, address_kind

REFUSED = [
    "127.0.0.1",
    "127.255.0.1",
    "10.1.2.3",
    "172.16.0.1",
    "192.168.1.1",
    "100.64.0.1",
    "169.254.169.254",
    "0.0.0.0",
    "224.0.0.1",
    "239.255.255.250",
    "240.0.0.1",
    "255.255.255.255",
    "192.0.2.1",
    "198.18.0.1",
    "::1",
    "::",
    "fe80::1",
    "fd00::1",
    "fd00:ec2::254",
    "fc00::1",
    "ff02::1",
    "fec0::1",
    "::ffff:127.0.0.1",
    "::ffff:169.254.169.254",
    "::ffff:10.0.0.1",
    "64:ff9b::7f00:1",
    "64:ff9b::a9fe:a9fe",
    "64:ff9b:1::1",
    "2002:7f00:1::",
    "2002:a9fe:a9fe::",
    "2002:c0a8:101::1",
    "2001:db8::1",
    "::7f00:1",
]
ALLOWED = [
    "93.184.216.34",
    "8.8.8.8",
    "2606:4700:4700::1111",
    "::ffff:8.8.8.8",
    "64:ff9b::808:808",
    "2002:808:808::",
]


@pytest.mark.parametrize("ip", REFUSED)
def test_non_global_addresses_are_refused(ip: str) -> None:
    assert address_kind(ipaddress.ip_address(ip)) is not None
    assert NetworkPolicy().refusal("h", ip) is not None


@pytest.mark.parametrize("ip", ALLOWED)
def test_global_addresses_are_allowed(ip: str) -> None:
    assert address_kind(ipaddress.ip_address(ip)) is None


def test_precise_openings() -> None:
    policy = NetworkPolicy.build(
        allowed_networks=["127.0.0.0/8", "fd00::/8"], allowed_hosts=["Billing.Internal."]
    )
    assert policy.refusal("x", "127.0.0.5") is None
    assert policy.refusal("x", "::ffff:127.0.0.5") is None
    assert policy.refusal("x", "fd00::5") is None
    assert policy.refusal("x", "10.0.0.1") is not None
    assert policy.refusal("billing.internal", "10.0.0.1") is None
    assert NetworkPolicy.build(allow_private_networks=True).refusal("x", "169.254.169.254") is None
    with pytest.raises(ValueError, match="allowed_networks"):
        NetworkPolicy.build(allowed_networks=["not-a-cidr"])
