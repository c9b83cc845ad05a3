"""WSGI entry point: `gunicorn wsgi:app`, `flask --app wsgi ...`."""

import sys

from webapp import create_app
from webapp.config import ConfigError

try:
    app = create_app()
except ConfigError as exc:  # a bad or missing variable: say which, without a traceback
    sys.stderr.write(f"{exc}\n")
    raise SystemExit(3) from None  # 3: gunicorn stops (worker boot error) instead of retrying
