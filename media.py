"""The media process for TELEPHONY_PROVIDER=twilio: `python media.py [--host H] [--port P]`.

It serves Twilio's media streams on ws://H:P/media/twilio (the address Twilio reaches through
MEDIA_PUBLIC_URL, by default PUBLIC_BASE_URL's host with the proxy sending /media/ here) and
bridges each to its ElevenLabs agent; GET /healthz answers on the same port. ./run.sh starts it
when TELEPHONY_PROVIDER=twilio.
"""

import argparse
import asyncio
import logging

from webapp import create_app
from webapp.config import ConfigError, load_settings
from webapp.media.server import serve_media


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8001, help="port to listen on (default 8001)")
    args = parser.parse_args()
    try:
        load_settings()  # a bad variable stops the process here, named
    except ConfigError as exc:
        raise SystemExit(str(exc)) from None
    app = create_app()
    logging.getLogger("webapp").propagate = False  # it has its own handler (create_app)
    asyncio.run(serve_media(app, args.host, args.port))


if __name__ == "__main__":
    # websockets' own warnings and errors (not a line per connection)
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    main()
