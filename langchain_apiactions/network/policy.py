"""Which addresses a toolkit may connect to: the `NetworkPolicy` and `address_kind`.

By default only global unicast addresses; IPv6 forms that wrap an IPv4 address are
judged by the address they wrap.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass

__all__ = ["NetworkPolicy", "address_kind"]

_SHARED = ipaddress.ip_network("100.64.0.0/10")
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_NAT64_LOCAL = ipaddress.ip_network("64:ff9b:1::/48")


def address_kind(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str | None:
    """Why `ip` is not a global unicast address, or None when it is one.

    IPv6 forms that wrap an IPv4 address (IPv4-mapped, NAT64, 6to4) are judged by the
    address they wrap; `ipaddress` alone calls some of them global.
    """
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            inner = address_kind(ip.ipv4_mapped)
            return f"IPv4-mapped {inner}" if inner else None
        if ip in _NAT64:
            inner = address_kind(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF))
            return f"NAT64-wrapped {inner}" if inner else None
        if ip in _NAT64_LOCAL:
            return "local-use NAT64"
        if ip.sixtofour is not None:
            inner = address_kind(ip.sixtofour)
            return f"6to4-wrapped {inner}" if inner else None
        if ip.teredo is not None:
            return "Teredo tunnel"
    if ip.is_unspecified:
        return "unspecified"
    if ip.is_loopback:
        return "loopback"
    if ip.is_link_local:
        return "link-local / cloud metadata"
    if ip.is_multicast:
        return "multicast"
    if isinstance(ip, ipaddress.IPv4Address) and ip in _SHARED:
        return "shared address space"
    if ip.is_private:
        return "private"
    if ip.is_reserved:
        return "reserved"
    if isinstance(ip, ipaddress.IPv6Address) and ip.is_site_local:
        return "site-local"
    if not ip.is_global:
        return "not global unicast"
    return None


@dataclass(frozen=True)
class NetworkPolicy:
    """Which addresses a toolkit may connect to.

    By default only global unicast addresses. `allow_private_networks` opens all of
    them; `allowed_networks` (CIDRs) and `allowed_hosts` (exact host names) open
    precisely. A toolkit builds one from its options (`NetworkPolicy.build`).

    Args:
        allow_private_networks: Allow every address (loopback, private, metadata...).
        allowed_networks: Networks to allow, parsed (`ipaddress` networks).
        allowed_hosts: Host names to allow, lower case without a trailing dot.
    """

    allow_private_networks: bool = False
    allowed_networks: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] = ()
    allowed_hosts: frozenset[str] = frozenset()

    @classmethod
    def build(
        cls,
        allow_private_networks: bool = False,
        allowed_networks: Iterable[str] = (),
        allowed_hosts: Iterable[str] = (),
    ) -> NetworkPolicy:
        """A policy from the toolkit's options, as written.

        Args:
            allow_private_networks: Allow every address.
            allowed_networks: CIDRs to allow (`"10.0.0.0/8"`, `"127.0.0.0/8"`).
            allowed_hosts: Exact host names to allow (`"billing.internal"`).

        Returns:
            The policy.

        Raises:
            ValueError: A network is not a CIDR (`allowed_networks: ...`).
        """
        try:
            networks = tuple(ipaddress.ip_network(n, strict=False) for n in allowed_networks)
        except ValueError as e:
            msg = f"allowed_networks: {e}"
            raise ValueError(msg) from None
        hosts = frozenset(h.strip().lower().rstrip(".") for h in allowed_hosts)
        return cls(allow_private_networks, networks, hosts)

    def refusal(self, host: str, ip_text: str) -> str | None:
        """The reason to refuse connecting to `ip_text` for `host`, or None.

        Args:
            host: The host name of the URL (an allowed host is never refused).
            ip_text: The address the name resolved to, as text.

        Returns:
            None to connect, or the reason (`loopback address 127.0.0.1`, ...) to refuse.
        """
        if self.allow_private_networks:
            return None
        if host.lower().rstrip(".").strip("[]") in self.allowed_hosts:
            return None
        try:
            ip = ipaddress.ip_address(ip_text.split("%", 1)[0])
        except ValueError:
            return f"{ip_text!r} is not an IP address"
        candidates: list[ipaddress.IPv4Address | ipaddress.IPv6Address] = [ip]
        if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
            candidates.append(ip.ipv4_mapped)
        if any(
            c in net
            for c in candidates
            for net in self.allowed_networks
            if c.version == net.version
        ):
            return None
        kind = address_kind(ip)
        if kind is None:
            return None
        return (
            f"refused address: {host} resolves to {ip} ({kind}); the network policy allows "
            "only public addresses (see allowed_hosts / allowed_networks)"
        )
