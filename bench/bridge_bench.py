"""Bridged calls (TELEPHONY_PROVIDER=twilio) through one media process (`python media.py`, one
asyncio loop), emulated Twilio media streams on one side and an emulated ElevenLabs conversation
socket on the other (bench/bridge_peers.py), 20 ms frames both ways in real time.

Measured: latency per frame through the bridge both ways (end to end between the two peers: two
loopback hops and the bridge, so an upper bound of what the bridge adds), frames lost or
reordered, pongs missed, CPU (once every call is open: relaying alone) and memory of the media
process per call; then more and more calls
until p99 passes 5 ms or a frame is lost, for the most one process holds."""

from __future__ import annotations

import asyncio
import json
import os
import resource
import sys
import threading
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import requests
from itsdangerous import URLSafeTimedSerializer
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from . import profile
from .bridge_peers import twilio_calls
from .cpu import CpuMeter
from .env import BenchEnv, Process, free_port, wait_for_http
from .seed import copy_rows, create_org, new_id

RAMP_SECONDS = 2.0  # twilio_calls opens the calls over this long
GOAL_P99_MS = 1.0
CAPACITY_P99_MS = 5.0
AGENT_ID = "agent_bench"


def _signed_url_server(agent_port: int):
    """ElevenLabs' get-signed-url, pointing at the agent peer."""

    def app(environ, start_response):
        request = Request(environ)
        agent = request.args.get("agent_id", "")
        url = f"ws://127.0.0.1:{agent_port}/v1/convai/conversation?agent_id={agent}"
        return Response(json.dumps({"signed_url": url}), mimetype="application/json")(environ, start_response)

    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def _media(env: BenchEnv, settings: dict) -> tuple[Process, str]:
    port = free_port()
    argv = [sys.executable, "media.py", "--port", str(port)]
    url = f"http://127.0.0.1:{port}"
    process = Process("bridge-media", argv, env.environ(**settings, PUBLIC_BASE_URL=url), env.workdir)
    wait_for_http(url + "/healthz", timeout=60)
    return process, url


def _cpu_seconds(pid: int) -> float:
    stat = Path(f"/proc/{pid}/stat").read_text()
    fields = stat[stat.rindex(")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _peers_cpu_seconds(agent: Process) -> float:
    """The emulated far ends: the agent peer's process and this one (the Twilio side)."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    return _cpu_seconds(agent.pid) + own.ru_utime + own.ru_stime


def _health(url: str) -> dict:
    try:
        return requests.get(url + "/healthz", timeout=30).json()
    except (requests.RequestException, ValueError):
        return {}


def _rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _seed_calls(env: BenchEnv, org, count: int, secret: str) -> list[tuple[str, str, str]]:
    """`count` answered bridged calls waiting for their media stream: (call id, token, CallSid)."""
    now = datetime.now(UTC)
    signer = URLSafeTimedSerializer(secret, salt="twilio-media-stream")
    tasks, calls, out = [], [], []
    for index in range(count):
        task_id, call_id, call_sid = new_id(), new_id(), "CA" + uuid.uuid4().hex
        tasks.append({"id": task_id, "organization_id": org.org_id, "agent_id": org.agent_ids[0],
                      "name": f"Bridge {index}", "to_number": "+14155550123",
                      "context_data": json.dumps({"bench_call": index}), "priority": 0, "webhook_events": "[]",
                      "status": "in_progress", "created_at": now, "updated_at": now})  # fmt: skip
        calls.append({"id": call_id, "organization_id": org.org_id, "task_id": task_id, "agent_id": org.agent_ids[0],
                      "to_number": "+14155550123", "status": "in_progress", "provider": "twilio",
                      "provider_call_id": call_sid,
                      "provider_data": json.dumps({"call_sid": call_sid, "agent_id": AGENT_ID}), "events": "[]",
                      "answered_at": now, "last_event_at": now, "created_at": now, "updated_at": now})  # fmt: skip
        out.append((call_id, signer.dumps({"call": call_id, "sid": call_sid}), call_sid))
    with env.connect() as conn:
        copy_rows(conn, "tasks", tasks)
        copy_rows(conn, "calls", calls)
    return out


def _step(env: BenchEnv, media: Process, url: str, org, count: int, seconds: float, warmup: float, secret: str) -> dict:
    calls = _seed_calls(env, org, count, secret)
    out = env.workdir / f"agent-{count}.json"
    agent = Process(f"bridge-agent-{count}", [sys.executable, "-m", "bench.bridge_peers", "agent", "--port",
                    str(env.agent_port), "--out", str(out), "--warmup", str(2.0 + warmup)], env.environ(),
                    env.workdir)  # fmt: skip
    deadline = time.monotonic() + 30
    while "ready" not in agent.log_path.read_text() and time.monotonic() < deadline:
        time.sleep(0.05)
    idle_rss = _rss_mib(media.pid)
    peak = {"rss": idle_rss}
    sampling = threading.Event()

    def sample():
        while not sampling.wait(0.5):
            peak["rss"] = max(peak["rss"], _rss_mib(media.pid))

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    meter = CpuMeter(media.pid)
    meter.start()
    peers_before = _peers_cpu_seconds(agent)
    steady = {}  # from the end of the warm-up (every call open) to the end: the relaying alone
    threading.Timer(
        RAMP_SECONDS + warmup, lambda: steady.update(at=time.monotonic(), cpu=_cpu_seconds(media.pid))
    ).start()
    lag = {}  # the media process's own loop lag over the last 10 s of streaming
    threading.Timer(
        RAMP_SECONDS + warmup + seconds - 0.5, lambda: lag.update(_health(url).get("loop_lag_ms") or {})
    ).start()
    profiler = profile.maybe_profile(media.pid, f"bridge-{count}")
    started = time.monotonic()
    stream_url = url.replace("http://", "ws://") + "/media/twilio"
    twilio_side = asyncio.run(twilio_calls(stream_url, calls, seconds, warmup, ramp_s=RAMP_SECONDS))
    elapsed = time.monotonic() - started
    steady_cpu, steady_seconds = _cpu_seconds(media.pid) - steady["cpu"], time.monotonic() - steady["at"]
    cpu = meter.stop()
    peers_cpu = _peers_cpu_seconds(agent) - peers_before
    if profiler:
        profiler.stop()
    sampling.set()
    agent.stop()
    agent_side = json.loads(out.read_text()) if out.exists() else {"twilio_to_agent": {}, "errors": ["no result"]}
    up, down = agent_side["twilio_to_agent"], twilio_side["agent_to_twilio"]
    return {
        "calls": count,
        "seconds": round(elapsed, 1),
        "twilio_to_agent": up,
        "agent_to_twilio": down,
        "sent_to_agent": twilio_side["sent_to_agent"],
        "conversations_opened": agent_side.get("conversations"),
        "pongs_missing": agent_side.get("pongs_missing"),
        "errors": (twilio_side["errors"] + agent_side.get("errors", []))[:10],
        "media_loop_lag_ms": lag,
        "media_cpu_seconds": round(cpu["server"], 2),
        "peers_cpu_seconds": round(peers_cpu, 2),
        "other_cpu_seconds": round(cpu["other"] - peers_cpu, 2),
        "cpu_percent_of_a_core_per_call": round(100 * steady_cpu / steady_seconds / count, 3),
        "cpu_us_per_frame_relayed": round(
            1e6 * steady_cpu / max(up.get("measured", 0) + down.get("measured", 0), 1), 1
        ),
        "rss_idle_mib": round(idle_rss, 1),
        "rss_peak_mib": round(peak["rss"], 1),
        "rss_per_call_kib": round((peak["rss"] - idle_rss) * 1024 / count, 1),
    }


def _clean(step: dict) -> bool:
    up, down = step["twilio_to_agent"], step["agent_to_twilio"]
    received_all = up.get("frames", 0) >= step["sent_to_agent"] * 0.999
    return (not step["errors"] and up.get("lost") == 0 and down.get("lost") == 0 and up.get("reordered") == 0
            and down.get("reordered") == 0 and not step["pongs_missing"] and received_all)  # fmt: skip


def _p99(step: dict) -> float:
    return max(step["twilio_to_agent"].get("p99_ms") or 1e9, step["agent_to_twilio"].get("p99_ms") or 1e9)


def run(env: BenchEnv, smoke: bool = False):
    env.reset()
    env.agent_port = free_port()
    signed = _signed_url_server(env.agent_port)
    secret = env.settings()["SECRET_KEY"]
    settings = {
        "TELEPHONY_PROVIDER": "twilio",
        "ELEVENLABS_API_KEY": "xi-bench",
        "ELEVENLABS_API_BASE_URL": f"http://127.0.0.1:{signed.server_port}",
        "TWILIO_ACCOUNT_SID": "AC" + "0" * 32,
        "TWILIO_AUTH_TOKEN": "bench",
        "TWILIO_API_BASE_URL": "http://127.0.0.1:9",
        "TWILIO_FROM_NUMBER": "+15550009999",
    }
    with env.connect() as conn:
        org = create_org(conn, "Bridge bench")
        now = datetime.now(UTC)
        agent = {"id": new_id(), "organization_id": org.org_id, "name": "Bridge agent", "system_prompt": "p",
                 "language": "en", "enabled": True, "voice_settings": "{}", "dtmf_rules": "{}",
                 "dynamic_variables": "{}", "remote_agent_id": AGENT_ID, "sync_status": "synced",
                 "created_at": now, "updated_at": now}  # fmt: skip
        copy_rows(conn, "agents", [agent])
        org.agent_ids.append(agent["id"])
    media, url = _media(env, settings)
    try:
        if smoke:
            main = _step(env, media, url, org, 5, 6.0, 1.0, secret)
            ramp = []
        else:
            main = _step(env, media, url, org, 100, 30.0, 3.0, secret)
            ramp = []
            for count in (150, 200, 300, 400, 600, 800):
                step = _step(env, media, url, org, count, 15.0, 3.0, secret)
                ramp.append(step)
                if not _clean(step) or _p99(step) >= CAPACITY_P99_MS:
                    break
    finally:
        media.stop()
        signed.shutdown()
    held = [s["calls"] for s in [main, *ramp] if _clean(s) and _p99(s) < CAPACITY_P99_MS]
    result = {
        "what": "bridged calls through one media process (asyncio, websockets), 20 ms frames both ways in real time",
        "goal": {
            "p99_ms_at_100_calls": GOAL_P99_MS,
            "no_frame_lost_or_reordered": True,
            "capacity_p99_ms": CAPACITY_P99_MS,
        },  # fmt: skip
        "main": main,
        "ramp": ramp,
        "most_calls_held_with_p99_under_5ms": max(held) if held else 0,
        "met": {"p99_under_1ms_at_100_calls": _p99(main) < GOAL_P99_MS, "no_frame_lost_or_reordered": _clean(main)},
    }
    return [("bridge", result)]
