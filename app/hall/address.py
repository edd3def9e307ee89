"""The laptop's address on the hall network: where the tablets reach the service.

An IPv4 address (tablets and phones on a hall Wi-Fi are sure to reach IPv4) of an interface that
is up, never loopback. Several are possible (Wi-Fi and a cable, a virtual machine's bridge): the
one chosen comes first by ``_rank``, the others are printed so that ``--host`` can pick one.
"""

import ipaddress
import socket
from dataclasses import dataclass

import psutil

# Interfaces of containers, virtual machines and VPNs: up, but no tablet in the hall is behind
# them. Matched on the lower-cased name's start (Linux, macOS and Windows names).
_VIRTUAL = (
    "docker", "br-", "veth", "virbr", "vmnet", "vboxnet", "vethernet", "tailscale", "zt", "utun",
    "tun", "tap", "wg", "lxc", "lxd", "podman", "cni", "flannel", "kube",
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class LanAddress:
    address: str
    interface: str


def _rank(found: LanAddress) -> tuple[bool, bool, bool, str, str]:
    """Best first: a real interface before a virtual one; then the kind of address a hall's
    Wi-Fi router hands out (private), then a public one (a campus network), and last a
    link-local one (169.254: no DHCP server answered, so the tablets likely got none either)."""
    ip = ipaddress.IPv4Address(found.address)
    virtual = found.interface.lower().startswith(_VIRTUAL)
    return (virtual, ip.is_link_local, not ip.is_private, found.interface, found.address)


def lan_addresses() -> list[LanAddress]:
    """Every non-loopback IPv4 address of an interface that is up, best first (``_rank``)."""
    stats = psutil.net_if_stats()
    found = [
        LanAddress(entry.address, name)
        for name, entries in psutil.net_if_addrs().items()
        if name in stats and stats[name].isup
        for entry in entries
        if entry.family == socket.AF_INET and not ipaddress.IPv4Address(entry.address).is_loopback
    ]
    return sorted(found, key=_rank)


def is_unspecified(host: str) -> bool:
    """``0.0.0.0`` / ``::``: listen on every interface (the URLs then need a real address)."""
    try:
        return ipaddress.ip_address(host).is_unspecified
    except ValueError:
        return False


NONE_FOUND = (
    "找不到本机的局域网地址（已启用网卡的非回环 IPv4 地址）：请先连接会场的 Wi-Fi 或网线，"
    "或用 --host 指定地址 / no LAN address found (a non-loopback IPv4 address of an interface "
    "that is up): connect to the hall's Wi-Fi or network first, or give one with --host"
)
