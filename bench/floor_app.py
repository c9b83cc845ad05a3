"""The floor: what any authenticated, rate-limited API endpoint does at the least, and nothing more.
One trivial PostgreSQL query (on a pooled connection: at most POOL_SIZE kept per process, as many
as the benchmark's connections), one Redis INCR (a rate limit's counter), and the same JSON payload
as the real list, serialized per request with jsonify (gunicorn bench.floor_app:app, the same
command as the app)."""

import json
import os
import queue
from pathlib import Path

import psycopg
import redis
from flask import Flask, jsonify

app = Flask(__name__)
PAYLOAD = json.loads(Path(os.environ["BENCH_BARE_PAYLOAD"]).read_text())
DATABASE_URL = os.environ["DATABASE_URL"]
REDIS = redis.Redis.from_url(os.environ["REDIS_URL"])
COUNTER = f"{os.environ.get('REDIS_NAMESPACE', 'bench')}:floor-hits"
POOL_SIZE = 16
_pool: queue.LifoQueue = queue.LifoQueue()


def _trivial_query() -> None:
    try:
        connection = _pool.get_nowait()
    except queue.Empty:
        connection = psycopg.connect(DATABASE_URL, autocommit=True)
    try:
        connection.execute("SELECT 1").fetchone()
    finally:
        if _pool.qsize() < POOL_SIZE:
            _pool.put(connection)
        else:
            connection.close()


@app.get("/api/v1/calls")
def calls():
    _trivial_query()
    REDIS.incr(COUNTER)
    return jsonify(PAYLOAD)
