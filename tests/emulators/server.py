"""A threaded local HTTP server for provider emulators: request log and failure injection."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field

from werkzeug.serving import WSGIRequestHandler, make_server
from werkzeug.wrappers import Request, Response


class _QuietHandler(WSGIRequestHandler):
    def log(self, type, message, *args):
        pass


@dataclass
class RecordedRequest:
    method: str
    path: str
    raw: bytes
    json: object | None
    form: dict
    query: dict
    headers: dict


@dataclass
class _Injection:
    kind: str  # "status" or "delay"
    times: int
    path_prefix: str | None
    status: int = 500
    body: object | None = None
    seconds: float = 0.0
    consumed: int = field(default=0)


class EmulatorServer:
    """Base class: subclasses implement `dispatch(request) -> Response`."""

    def __init__(self):
        self.requests: list[RecordedRequest] = []
        self._injections: list[_Injection] = []
        self._lock = threading.RLock()
        self._server = None
        self._thread = None
        self.url = ""

    # -- lifecycle -----------------------------------------------------------------------
    def start(self):
        self._server = make_server("127.0.0.1", 0, self._wsgi, threaded=True, request_handler=_QuietHandler)
        self.url = f"http://127.0.0.1:{self._server.server_port}"
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self):
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._thread.join(timeout=5)
            self._server = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    # -- failure injection ---------------------------------------------------------------
    def fail_next(self, status=500, *, times=1, path_prefix=None, body=None):
        """The next `times` requests (under `path_prefix` if given) answer `status`."""
        body = body if body is not None else {"detail": {"status": "internal_error", "message": "Injected failure"}}
        with self._lock:
            self._injections.append(_Injection("status", times, path_prefix, status=status, body=body))

    def delay_next(self, seconds, *, times=1, path_prefix=None):
        """The next `times` requests sleep `seconds` before being answered (to provoke timeouts)."""
        with self._lock:
            self._injections.append(_Injection("delay", times, path_prefix, seconds=seconds))

    def _take_injection(self, path):
        with self._lock:
            for inj in self._injections:
                if inj.path_prefix is None or path.startswith(inj.path_prefix):
                    inj.consumed += 1
                    if inj.consumed >= inj.times:
                        self._injections.remove(inj)
                    return inj
        return None

    # -- request log ---------------------------------------------------------------------
    def requests_to(self, method, path_prefix):
        return [r for r in self.requests if r.method == method and r.path.startswith(path_prefix)]

    def last_request(self, method, path_prefix):
        matching = self.requests_to(method, path_prefix)
        return matching[-1] if matching else None

    # -- WSGI ----------------------------------------------------------------------------
    def _wsgi(self, environ, start_response):
        request = Request(environ)
        raw = request.get_data(cache=True)
        payload = None
        if request.mimetype == "application/json" and raw:
            try:
                payload = json.loads(raw)
            except ValueError:
                payload = None
        record = RecordedRequest(
            method=request.method,
            path=request.path,
            raw=raw,
            json=payload,
            form=request.form.to_dict(),
            query=request.args.to_dict(),
            headers=dict(request.headers),
        )
        with self._lock:
            self.requests.append(record)
        injection = self._take_injection(request.path)
        if injection and injection.kind == "delay":
            time.sleep(injection.seconds)
        if injection and injection.kind == "status":
            response = json_response(injection.body, injection.status)
        else:
            with self._lock:
                response = self.dispatch(request, payload)
        return response(environ, start_response)

    def dispatch(self, request: Request, payload) -> Response:  # pragma: no cover - abstract
        raise NotImplementedError


def json_response(body, status=200):
    return Response(json.dumps(body), status=status, mimetype="application/json")
