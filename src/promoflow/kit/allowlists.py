"""Allow-lists for what a connection may reach: hosts (names, *.suffix, IP, CIDR) and folders.

Pure functions over strings and paths, so Settings refuses a bad entry when the
process starts and the connector framework matches with the very same rules.
Allow-lists fail closed: a host written in any form the list does not name
(an integer IP, `127.1`, an IPv4-mapped IPv6 address) is refused.
"""

from __future__ import annotations

import ipaddress
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
LABEL = r"[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?"
HOSTNAME = re.compile(rf"^(?=.{{1,253}}$){LABEL}(?:\.{LABEL})*$")
ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
LOOPBACK = ("localhost", "127.0.0.0/8", "::1")


def split_list(text: str | None) -> tuple[str, ...]:
    """The non-empty, stripped entries of a comma-separated setting."""
    return tuple(part.strip() for part in (text or "").split(",") if part.strip())


def normal_host(host: str) -> str:
    """A host as matched: lower case, without IPv6 brackets or the root's trailing dot."""
    return host.strip().strip("[]").rstrip(".").lower()


@dataclass(frozen=True)
class HostAllowList:
    """Hosts connections may call: exact names, `*.suffix` wildcards, IP addresses, CIDR ranges.

    A CIDR range matches hosts written as IP addresses only: a name is never
    resolved to decide, so DNS cannot widen the list.
    """

    entries: tuple[str, ...]
    names: frozenset[str]
    suffixes: tuple[str, ...]
    networks: tuple[IPNetwork, ...]

    @classmethod
    def parse(cls, entries: Iterable[str]) -> HostAllowList:
        """The list from its entries; ValueError names the first entry that is none of the forms."""
        written = tuple(entries)
        names: set[str] = set()
        suffixes: list[str] = []
        networks: list[IPNetwork] = []
        for entry in written:
            text = normal_host(entry)
            try:
                networks.append(ipaddress.ip_network(text, strict=False))
                continue
            except ValueError:
                pass
            wildcard = text.startswith("*.")
            name = text[2:] if wildcard else text
            if not HOSTNAME.match(name):
                raise ValueError(
                    f"{entry!r} is not a host name, *.suffix wildcard, IP address or CIDR range"
                )
            if wildcard:
                suffixes.append("." + name)
            else:
                names.add(name)
        return cls(written, frozenset(names), tuple(suffixes), tuple(networks))

    def allows(self, host: str | None) -> bool:
        """Whether a request to `host` may leave."""
        if not host:
            return False
        name = normal_host(host)
        try:
            address = ipaddress.ip_address(name)
        except ValueError:
            return name in self.names or name.endswith(self.suffixes)
        return any(address in network for network in self.networks)

    def describe(self) -> str:
        return ", ".join(self.entries) or "none"


def lexical(path: Path) -> Path:
    """The absolute path with `.` and `..` removed, symbolic links not followed."""
    return Path(os.path.normpath(os.path.abspath(path)))


def written_inside(root: Path, path: Path) -> bool:
    """Whether `path` as written (after `..`) is inside `root` or its real location.

    Touches no file but the root's own links, so it says nothing about what exists.
    """
    place = lexical(path)
    return place.is_relative_to(lexical(root)) or place.is_relative_to(root.resolve())


def really_inside(root: Path, path: Path) -> bool:
    """Whether `path` after `..` and every symbolic link is inside the real `root`."""
    return written_inside(root, path) and path.resolve().is_relative_to(root.resolve())


def overlapping(first: Path, second: Path) -> bool:
    """Whether one folder holds the other (or both are one)."""
    return really_inside(first, second) or really_inside(second, first)
