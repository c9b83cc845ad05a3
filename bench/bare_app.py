"""The baseline: a bare Flask app answering GET /api/v1/calls with a stored payload of the same size
as the real endpoint's, serialized per request (gunicorn bench.bare_app:app)."""

import json
import os
from pathlib import Path

from flask import Flask, jsonify

app = Flask(__name__)
PAYLOAD = json.loads(Path(os.environ["BENCH_BARE_PAYLOAD"]).read_text())


@app.get("/api/v1/calls")
def calls():
    return jsonify(PAYLOAD)
