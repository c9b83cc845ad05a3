"""Twilio's Calls resource (fetch, update to end a call) with Basic auth, and signed
status callbacks, in the shapes of the real API."""

from __future__ import annotations

import base64
import time
from email.utils import formatdate

import requests
from twilio.request_validator import RequestValidator

from tests.support import scaled

from .conversations import state, timeline
from .server import json_response

API = "/2010-04-01"


def _twilio_error(code, message, status):
    return json_response(
        {
            "code": code,
            "message": message,
            "more_info": f"https://www.twilio.com/docs/errors/{code}",
            "status": status,
        },
        status,
    )


class TwilioMixin:
    twilio_account_sid: str
    twilio_auth_token: str

    def _init_twilio(self):
        self.twilio_statuses: dict[str, str] = {}  # call_sid -> status forced by an update

    def _check_basic_auth(self, request, account_sid):
        expected = base64.b64encode(f"{self.twilio_account_sid}:{self.twilio_auth_token}".encode()).decode()
        if request.headers.get("Authorization") != f"Basic {expected}" or account_sid != self.twilio_account_sid:
            return _twilio_error(20003, "Authenticate", 401)
        return None

    def twilio_status(self, call) -> str:
        if call.call_sid in self.twilio_statuses:
            return self.twilio_statuses[call.call_sid]
        now = state(
            call,
            timeline(
                call,
                step_seconds=self.step_seconds,
                clock=self.clock,
                time_scale=self.time_scale,
            ),
        )
        if now["status"] == "initiated":
            return "ringing"
        if now["status"] == "in-progress":
            return "in-progress"
        return {"busy": "busy", "no_answer": "no-answer", "failed": "failed"}.get(now.get("result"), "completed")

    def _call_resource(self, call) -> dict:
        status = self.twilio_status(call)
        now = state(
            call,
            timeline(
                call,
                step_seconds=self.step_seconds,
                clock=self.clock,
                time_scale=self.time_scale,
            ),
        )
        ended = status not in ("queued", "ringing", "in-progress")
        uri = f"{API}/Accounts/{self.twilio_account_sid}/Calls/{call.call_sid}"
        return {
            "account_sid": self.twilio_account_sid,
            "annotation": None,
            "answered_by": None,
            "api_version": "2010-04-01",
            "caller_name": None,
            "date_created": formatdate(call.placed_at),
            "date_updated": formatdate(time.time()),
            "direction": "outbound-api",
            "duration": str(int(now["seconds"])) if ended else None,
            "end_time": formatdate(time.time()) if ended else None,
            "forwarded_from": None,
            "from": call.from_number,
            "from_formatted": call.from_number,
            "group_sid": None,
            "parent_call_sid": None,
            "phone_number_sid": "PN" + call.call_sid[2:],
            "price": None,
            "price_unit": "USD",
            "queue_time": "0",
            "sid": call.call_sid,
            "start_time": formatdate(call.placed_at) if status != "queued" else None,
            "status": status,
            "subresource_uris": {
                "notifications": f"{uri}/Notifications.json",
                "recordings": f"{uri}/Recordings.json",
                "payments": f"{uri}/Payments.json",
                "events": f"{uri}/Events.json",
                "siprec": f"{uri}/Siprec.json",
                "streams": f"{uri}/Streams.json",
                "transcriptions": f"{uri}/Transcriptions.json",
                "user_defined_message_subscriptions": f"{uri}/UserDefinedMessageSubscriptions.json",
                "user_defined_messages": f"{uri}/UserDefinedMessages.json",
            },
            "to": call.to_number,
            "to_formatted": call.to_number,
            "trunk_sid": None,
            "uri": f"{uri}.json",
        }

    def tw_call(self, request, payload, account_sid, call_sid):
        denied = self._check_basic_auth(request, account_sid)
        if denied:
            return denied
        call = self.call_by_sid(call_sid)
        if call is None:
            return _twilio_error(20404, f"The requested resource {request.path} was not found", 404)
        if request.method == "POST":
            wanted = request.form.get("Status")
            if wanted not in (None, "completed", "canceled"):
                return _twilio_error(21218, "Invalid Status", 400)
            current = self.twilio_status(call)
            if current not in ("queued", "ringing", "in-progress"):
                return _twilio_error(21220, "Call is not in-progress. Cannot redirect.", 400)
            if wanted == "canceled" and current == "in-progress":
                pass  # Twilio: canceling only affects queued or ringing calls
            elif wanted in ("completed", "canceled"):
                self._end_call(call, current)
        return json_response(self._call_resource(call))

    def _end_call(self, call, current):
        t = timeline(
            call,
            step_seconds=self.step_seconds,
            clock=self.clock,
            time_scale=self.time_scale,
        )
        if current == "in-progress":
            call.ended_at = state(call, t)["seconds"]
            self.twilio_statuses[call.call_sid] = "completed"
        else:
            call.cancelled = True
            self.twilio_statuses[call.call_sid] = "canceled"

    # -- status callbacks ----------------------------------------------------------------
    def build_twilio_status_callback(self, url, call_sid, status, *, duration=None, auth_token=None, sequence=0):
        """(form, headers) of a signed status callback for `url`, as Twilio posts it."""
        call = self.call_by_sid(call_sid)
        form = {
            "AccountSid": self.twilio_account_sid,
            "ApiVersion": "2010-04-01",
            "CallSid": call_sid,
            "CallStatus": status,
            "Called": call.to_number if call else "",
            "Caller": call.from_number if call else "",
            "Direction": "outbound-api",
            "From": call.from_number if call else "",
            "To": call.to_number if call else "",
            "SequenceNumber": str(sequence),
            "Timestamp": formatdate(time.time()),
            "CallbackSource": "call-progress-events",
        }
        if duration is not None:
            form["CallDuration"] = str(int(duration))
            form["Duration"] = str(max(1, int(duration + 59) // 60))
        if status in ("completed", "busy", "no-answer", "failed", "canceled"):
            form["SipResponseCode"] = {
                "busy": "486",
                "no-answer": "487",
                "failed": "500",
            }.get(status, "200")
        validator = RequestValidator(auth_token or self.twilio_auth_token)
        headers = {"X-Twilio-Signature": validator.compute_signature(url, form)}
        return form, headers

    def send_twilio_status_callback(self, url, call_sid, status, **kwargs) -> requests.Response:
        form, headers = self.build_twilio_status_callback(url, call_sid, status, **kwargs)
        return requests.post(url, data=form, headers=headers, timeout=scaled(10))
