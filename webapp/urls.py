"""Absolute URLs: from PUBLIC_BASE_URL when set (behind a proxy), else from the request host."""

from flask import current_app, request, url_for


def base_url() -> str:
    return current_app.config.get("PUBLIC_BASE_URL") or request.host_url.rstrip("/")


def public_url(endpoint: str, **values) -> str:
    return base_url() + url_for(endpoint, **values)


def websocket_url(endpoint: str, **values) -> str:
    url = public_url(endpoint, **values)
    return "wss://" + url[len("https://") :] if url.startswith("https://") else "ws://" + url[len("http://") :]
