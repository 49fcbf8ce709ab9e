"""Library wording said for the command line's reader (its options, not Python's)."""

from __future__ import annotations

__all__ = ["for_cli"]


def for_cli(text: str) -> str:
    """`allowed_hosts / allowed_networks` (toolkit options) as `--allow-host/--allow-network`."""
    return text.replace(
        "(see allowed_hosts / allowed_networks)",
        "(allow it with --allow-host HOST or --allow-network CIDR)",
    )
