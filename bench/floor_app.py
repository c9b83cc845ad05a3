"""The floor: what any authenticated, rate-limited API endpoint does at the least, and nothing more.
One trivial PostgreSQL query (on a connection kept by the serving thread), one Redis INCR (a rate
limit's counter), and the same JSON payload as the real list, serialized per request with jsonify
(gunicorn bench.floor_app:app, the same command as the app)."""

import json
import os
import threading
from pathlib import Path

import psycopg
import redis
from flask import Flask, jsonify

app = Flask(__name__)
PAYLOAD = json.loads(Path(os.environ["BENCH_BARE_PAYLOAD"]).read_text())
DATABASE_URL = os.environ["DATABASE_URL"]
REDIS = redis.Redis.from_url(os.environ["REDIS_URL"])
COUNTER = f"{os.environ.get('REDIS_NAMESPACE', 'bench')}:floor-hits"
_local = threading.local()


def _connection() -> psycopg.Connection:
    connection = getattr(_local, "connection", None)
    if connection is None or connection.closed:
        connection = _local.connection = psycopg.connect(DATABASE_URL, autocommit=True)
    return connection


@app.get("/api/v1/calls")
def calls():
    _connection().execute("SELECT 1").fetchone()
    REDIS.incr(COUNTER)
    return jsonify(PAYLOAD)
