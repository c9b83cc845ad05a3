"""Absolute URLs: from PUBLIC_BASE_URL when set (behind a proxy), else from the request host."""

from urllib.parse import urlsplit

from flask import current_app, request, url_for


def base_url() -> str:
    return current_app.config.get("PUBLIC_BASE_URL") or request.host_url.rstrip("/")


def public_url(endpoint: str, **values) -> str:
    # WebSocket rules build absolute ws:// URLs on their own; keep only the path.
    return base_url() + urlsplit(url_for(endpoint, **values)).path


def as_websocket(url: str) -> str:
    """The ws:// (or wss://) form of an http:// (or https://) URL."""
    return (
        "wss://" + url.removeprefix("https://") if url.startswith("https://") else "ws://" + url.removeprefix("http://")
    )


def websocket_url(endpoint: str, **values) -> str:
    return as_websocket(public_url(endpoint, **values))
