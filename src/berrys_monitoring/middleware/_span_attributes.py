"""The server span's HTTP semantic-convention attributes known when a request starts."""

from __future__ import annotations

from typing import Any

__all__ = ["span_attributes"]


def span_attributes(
    method: str,
    known: bool,
    path: str,
    scheme: str,
    client_ip: str | None,
    host: str | None,
    user_agent: str | None,
    protocol: str | None,
) -> dict[str, Any]:
    """The HTTP server span's semantic-convention attributes known at the start.

    Example::

        >>> span_attributes("GET", True, "/u/1", "http", "10.0.0.1", "api:8080", None, "1.1")["server.port"]
        8080
    """
    attrs: dict[str, Any] = {
        # Semantic conventions: an unknown method is "_OTHER" (the original kept beside
        # it), so a client cannot mint span names or attribute values.
        "http.request.method": method if known else "_OTHER",
        "url.path": path,
        "url.scheme": scheme,
    }
    if not known:
        attrs["http.request.method_original"] = method
    if client_ip:
        attrs["client.address"] = client_ip
    if host:
        split = _hosts.get(host)
        if split is None:
            split = _split_host(host)
        attrs["server.address"] = split[0]
        if split[1] is not None:
            attrs["server.port"] = split[1]
    if user_agent:
        attrs["user_agent.original"] = user_agent
    if protocol:
        attrs["network.protocol.version"] = protocol
    return attrs


def _split_host(host: str) -> tuple[str, int | None]:
    """``Host`` header -> (address, port or None), remembered: a service answers to few."""
    name, _, port = host.rpartition(":") if host[-1:] != "]" else (host, "", "")
    # ASCII digits only: str.isdigit() is also true for "²", which int() refuses.
    split = (name, int(port)) if name and port.isascii() and port.isdigit() else (host, None)
    if len(_hosts) >= 256:
        _hosts.clear()
    _hosts[host] = split
    return split


_hosts: dict[str, tuple[str, int | None]] = {}
