"""Where we may send webhooks: public https addresses (loopback http only when configured)."""

import ipaddress
import socket
from urllib.parse import urlsplit


class UnsafeAddress(ValueError):
    pass


def _is_loopback_host(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_webhook_url(url: str, *, allow_loopback: bool) -> None:
    """Static checks when a URL is saved: scheme, host, and no literal private address."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if parts.scheme not in ("https", "http") or not host:
        raise UnsafeAddress("must be an absolute https:// URL")
    if parts.username or parts.password:
        raise UnsafeAddress("must not carry credentials")
    loopback = _is_loopback_host(host)
    if loopback and not allow_loopback:
        raise UnsafeAddress("must not point at a loopback address")
    if parts.scheme == "http" and not loopback:
        raise UnsafeAddress("must use https (http is allowed for loopback in development only)")
    if not loopback:
        try:
            _check_ip(ipaddress.ip_address(host), allow_loopback=False)
        except ValueError as exc:
            if isinstance(exc, UnsafeAddress):
                raise
            # not a literal address: a host name, resolved and checked at delivery time


def _check_ip(ip: ipaddress.IPv4Address | ipaddress.IPv6Address, *, allow_loopback: bool) -> None:
    if ip.is_loopback:
        if not allow_loopback:
            raise UnsafeAddress(f"resolves to loopback address {ip}")
        return
    if ip.is_link_local:
        raise UnsafeAddress(f"resolves to link-local address {ip}")
    if ip.is_private or ip.is_reserved or ip.is_multicast or ip.is_unspecified or not ip.is_global:
        raise UnsafeAddress(f"resolves to non-public address {ip}")


def resolve_safe_addresses(url: str, *, allow_loopback: bool) -> list[str]:
    """Resolve the URL's host and refuse it if any address is private, loopback or link-local."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise UnsafeAddress(f"host {host!r} does not resolve: {exc.strerror}") from None
    addresses = sorted({info[4][0] for info in infos})
    for address in addresses:
        _check_ip(ipaddress.ip_address(address.split("%")[0]), allow_loopback=allow_loopback)
    return addresses


class AddressCheck:
    """`resolve_safe_addresses` at delivery time, resolved once per (scheme, host, port) for the
    life of this object (one batch of deliveries, a fraction of a second): `check(url)` raises
    UnsafeAddress like the function does."""

    def __init__(self, *, allow_loopback: bool):
        self.allow_loopback = allow_loopback
        self._refusals: dict[tuple, str | None] = {}

    def check(self, url: str) -> None:
        parts = urlsplit(url)
        key = (parts.scheme, (parts.hostname or "").lower(), parts.port)
        if key not in self._refusals:
            try:
                resolve_safe_addresses(url, allow_loopback=self.allow_loopback)
                self._refusals[key] = None
            except UnsafeAddress as exc:
                self._refusals[key] = str(exc)
        if (refusal := self._refusals[key]) is not None:
            raise UnsafeAddress(refusal)
