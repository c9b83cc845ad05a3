"""The emulators refuse what the real services refuse: each mistake below is recorded as an
error (which fails any end-to-end test) and closes the socket."""

import base64
import json
import threading

import pytest
from flask import Flask
from flask_sock import Sock
from simple_websocket import Client, ConnectionClosed
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client as TwilioClient
from werkzeug.serving import make_server

from tests.emulators.agent_socket import AgentSocketEmulator
from tests.emulators.twilio_media import TwilioEmulator
from tests.support import scaled, wait_until

INITIATION = {"type": "conversation_initiation_client_data", "dynamic_variables": {"name": "Jane"}}


@pytest.fixture
def sockets():
    emulator = AgentSocketEmulator().start()
    emulator.default_script = lambda c: c.wait_closed(10)
    yield emulator
    emulator.stop()


def _agent_client(sockets, first: dict | str):
    ws = Client.connect(sockets.signed_url("agent_x"))
    ws.send(first if isinstance(first, str) else json.dumps(first))
    return ws


def _closed_with_error(sockets, ws, fragment: str) -> None:
    wait_until(lambda: any(fragment in error for error in sockets.errors), message=f"an error about {fragment!r}")
    with pytest.raises(ConnectionClosed):
        while ws.receive(timeout=scaled(10)) is not None:
            pass


def test_nested_initiation_message_is_refused(sockets):
    nested = {"type": "conversation_initiation_client_data", "conversation_initiation_client_data": INITIATION}
    _closed_with_error(sockets, _agent_client(sockets, nested), "unknown initiation fields")


def test_audio_before_the_initiation_is_refused(sockets):
    ws = _agent_client(sockets, {"user_audio_chunk": base64.b64encode(b"\xff" * 160).decode()})
    _closed_with_error(sockets, ws, "first message must be conversation_initiation_client_data")


def test_malformed_frames_are_refused(sockets):
    ws = _agent_client(sockets, INITIATION)
    ws.send("not json")
    _closed_with_error(sockets, ws, "not JSON")


def test_audio_chunk_must_be_base64_and_alone(sockets):
    ws = _agent_client(sockets, INITIATION)
    ws.send(json.dumps({"user_audio_chunk": "%%%"}))
    _closed_with_error(sockets, ws, "not base64")


def test_a_missing_pong_is_refused(sockets):
    sockets.default_script = lambda c: c.ping(timeout=0.5)
    ws = _agent_client(sockets, INITIATION)
    _closed_with_error(sockets, ws, "no pong")


def test_a_pong_with_the_ping_event_id_is_accepted(sockets):
    done = threading.Event()

    def script(c):
        c.ping(timeout=scaled(5))
        done.set()

    sockets.default_script = script
    ws = _agent_client(sockets, INITIATION)
    metadata = json.loads(ws.receive(timeout=scaled(10)))
    assert metadata["conversation_initiation_metadata_event"]["agent_output_audio_format"] == "ulaw_8000"
    ping = json.loads(ws.receive(timeout=scaled(10)))
    ws.send(json.dumps({"type": "pong", "event_id": ping["ping_event"]["event_id"]}))
    assert done.wait(scaled(10))
    assert sockets.errors == []
    ws.close()


class _BadBridge:
    """A stand-in for our server that answers TwiML and then misbehaves on the media socket."""

    def __init__(self, misbehave):
        app = Flask(__name__)
        sock = Sock(app)
        self.url = ""

        @app.post("/twiml")
        def twiml():
            stream = self.url.replace("http://", "ws://") + "/media"
            return (
                f'<Response><Connect><Stream url="{stream}"/></Connect></Response>',
                200,
                {"Content-Type": "text/xml"},
            )

        @sock.route("/media")
        def media(ws):
            misbehave(ws)

        self.server = make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


def _media_without_stream_sid(ws):
    ws.receive()  # connected
    ws.send(json.dumps({"event": "media", "media": {"payload": base64.b64encode(b"\xff" * 160).decode()}}))
    ws.receive(timeout=5)


def _malformed(ws):
    ws.receive()
    start = json.loads(ws.receive())
    ws.send(json.dumps({"event": "media", "streamSid": start["streamSid"], "media": {"payload": "%%%"}}))
    ws.receive(timeout=5)


@pytest.mark.parametrize(("misbehave", "fragment"), [(_media_without_stream_sid, "streamSid"),
                                                      (_malformed, "not base64")])  # fmt: skip
def test_twilio_refuses_bad_stream_frames(misbehave, fragment):
    twilio = TwilioEmulator().start()
    bridge = _BadBridge(misbehave)
    twilio.callees["+14155550199"] = lambda line: line.wait_end(20)
    try:
        client = TwilioClient(twilio.account_sid, twilio.auth_token, http_client=TwilioHttpClient(timeout=5))
        client.api.base_url = twilio.url
        client.calls.create(to="+14155550199", from_="+15550009999", url=f"{bridge.url}/twiml")
        wait_until(lambda: any("31951" in e and fragment in e for e in twilio.errors), message="a 31951 error")
    finally:
        bridge.server.shutdown()
        twilio.stop()
