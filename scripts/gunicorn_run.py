"""gunicorn settings for ./run.sh (a single machine, stopped with Ctrl-C).

Ctrl-C sends SIGINT to every process of the terminal: gunicorn's workers would then wait for their
open WebSockets until the master kills them 30 s later ("… was sent SIGKILL! Perhaps out of
memory?"). A stop from the keyboard is not a deploy: each worker leaves at once instead.
"""

import os

graceful_timeout = 3


def worker_int(worker):
    """SIGINT/SIGQUIT reached a worker: flush the logs and leave without waiting for sockets."""
    worker.log.info("worker %s stopping", worker.pid)
    os._exit(0)
