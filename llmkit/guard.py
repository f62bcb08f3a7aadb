"""The data-use guard: ArchEHR-QA data may only go to endpoints the user controls.

The data is credentialed (PhysioNet Credentialed Health Data Use Agreement): it must not be shared with third
parties, which includes sending it to a hosted LLM API. By default only loopback and private-network hosts are
allowed; any other host needs ``allow_remote=True`` and is logged with a warning naming the agreement.
"""

from __future__ import annotations

import ipaddress
import logging
import socket
from urllib.parse import urlsplit

from harness.errors import HarnessError

logger = logging.getLogger(__name__)

AGREEMENT = "PhysioNet Credentialed Health Data Use Agreement"
#: Host names that are loopback by definition (resolved names are checked by address too).
_LOCAL_NAMES = frozenset({"localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback"})


class DataUseError(HarnessError):
    """An endpoint outside loopback and private networks, without the explicit setting."""


def _is_private(address: str) -> bool:
    ip = ipaddress.ip_address(address)
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_loopback or ip.is_private or ip.is_link_local


def host_is_private(host: str) -> bool:
    """True for loopback, private-network (RFC 1918, ULA) and link-local hosts; names are resolved."""
    host = host.strip("[]").lower()
    if host in _LOCAL_NAMES:
        return True
    try:
        return _is_private(host)
    except ValueError:
        pass  # a name, not an address
    try:
        infos = socket.getaddrinfo(host, None)
    except OSError:
        return False  # unresolvable: cannot be shown to be private
    addresses = {info[4][0] for info in infos}
    return bool(addresses) and all(_is_private(str(a).split("%")[0]) for a in addresses)


def check_endpoint(base_url: str, *, allow_remote: bool = False) -> str:
    """Refuse ``base_url`` unless its host is private or ``allow_remote``; returns the host."""
    parts = urlsplit(base_url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise DataUseError(f"endpoint {base_url!r} is not an http(s) URL with a host")
    host = parts.hostname
    if host_is_private(host):
        return host
    if not allow_remote:
        raise DataUseError(
            f"endpoint host {host!r} is neither loopback nor a private network: sending ArchEHR-QA (MIMIC) data to "
            f"a third party breaks the {AGREEMENT}. Use a server you run, or set allow_remote=true if this host "
            "is covered by your agreement (e.g. your institution's own deployment)."
        )
    logger.warning(
        "sending case data to %s (allow_remote=true): make sure this host is allowed under the %s; "
        "hosted third-party APIs are not",
        host,
        AGREEMENT,
    )
    return host
