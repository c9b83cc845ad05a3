"""./run.sh as a person runs it: progress lines, a ready banner only once /healthz answers, the
README's quick start run as written against it, and Ctrl-C (SIGINT to the terminal's process
group) stopping everything it started within 5 s, quietly."""

import os
import signal
import subprocess
import threading
import time
import urllib.request
import uuid
from pathlib import Path

import pytest

from tests.support import ROOT, free_port, scaled, wait_until

# Variables the test session exports for its own backend; run.sh must run on its defaults.
SESSION_VARIABLES = ("DATABASE_URL", "REDIS_URL", "REDIS_NAMESPACE", "RECORDINGS_DIR", "INSTANCE_PATH", "FLASK_APP")
STOP_SECONDS = 5
pytestmark = [pytest.mark.slow, pytest.mark.timeout(scaled(600))]  # a first run.sh installs and migrates
ALARMING = ("SIGKILL", "Traceback", "out of memory", "Error", "error")


def _started_processes(marker: str, instance: Path) -> list[int]:
    """Every process whose environment carries the marker (run.sh and all it started) or whose
    command line names the instance folder: the embedded Redis server daemonizes into a session
    of its own and rewrites its title over its environment, but its title keeps its socket path."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            environment = (entry / "environ").read_bytes()
            command = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        if marker.encode() in environment or str(instance).encode() in command:
            found.append(int(entry.name))
    return found


class RunScript:
    def __init__(self, tmp_path: Path):
        self.marker = f"RUN_SH_TEST_MARKER={uuid.uuid4().hex}"
        self.port = free_port()
        self.instance = tmp_path / "instance"
        env = {key: value for key, value in os.environ.items() if key not in SESSION_VARIABLES}
        env.update(INSTANCE_PATH=str(self.instance), PORT=str(self.port), WORKERS="2", SIMULATOR_TIME_SCALE="20")
        self.env = env
        name, value = self.marker.split("=")
        env[name] = value
        self.lines: list[str] = []
        self.process = subprocess.Popen(
            ["./run.sh"], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
            start_new_session=True,  # a process group of its own, like a terminal's foreground job
        )  # fmt: skip
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.process.stdout:
            self.lines.append(line.rstrip("\n"))

    def output(self) -> str:
        return "\n".join(self.lines)

    def ctrl_c(self) -> None:
        os.killpg(self.process.pid, signal.SIGINT)

    def processes(self) -> list[int]:
        return _started_processes(self.marker, self.instance)

    def kill_all(self) -> None:
        for pid in self.processes():
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


@pytest.fixture
def run_script(tmp_path):
    if not Path("/proc/self/environ").exists():
        pytest.skip("needs /proc to find the processes run.sh started")
    script = RunScript(tmp_path)
    yield script
    script.kill_all()


def quick_start_script() -> str:
    """The README's quick start, as written, aimed at this run's port."""
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Quick start with curl", 1)[1]
    return section.split("```bash\n", 1)[1].split("```", 1)[0]


def run_quick_start(run_script: RunScript, workdir: Path) -> subprocess.CompletedProcess:
    script = quick_start_script().replace("127.0.0.1:8000", f"127.0.0.1:{run_script.port}")
    script = script.replace("source .venv/bin/activate", f"source {ROOT}/.venv/bin/activate")
    script = script.replace("flask --app wsgi", f"flask --app {ROOT}/wsgi.py")
    return subprocess.run(["bash", "-e", "-o", "pipefail", "-c", script], cwd=workdir, env=run_script.env,
                          capture_output=True, text=True, timeout=scaled(300))  # fmt: skip


def test_run_sh_serves_the_readme_quick_start_and_stops_on_ctrl_c(run_script, tmp_path):
    wait_until(lambda: "is running at" in run_script.output() or run_script.process.poll() is not None,
               timeout=300, interval=0.2, message="run.sh's ready banner")  # fmt: skip
    output = run_script.output()
    assert "is running at" in output, output
    for step in ("==> Checking Python packages", "==> Migrating the database", "==> Loading the demo organization",
                 "==> Starting 2 worker(s) and the web server", "==> Waiting for"):  # fmt: skip
        assert step in output
    # The banner comes only once the server answers /healthz with a worker seen.
    with urllib.request.urlopen(f"http://127.0.0.1:{run_script.port}/healthz", timeout=scaled(5)) as response:
        assert response.status == 200
    started = run_script.processes()
    commands = [Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode() for pid in started]
    assert any("redis-server" in command for command in commands), commands  # the embedded Redis
    assert sum("gunicorn" in command for command in commands) >= 3, commands  # master + 2 workers
    assert sum("worker.py" in command for command in commands) >= 3, commands  # parent + 2 workers

    result = run_quick_start(run_script, tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert '"summary":"Reached Jane Roe' in result.stdout.replace(": ", ":"), result.stdout  # the report
    assert not result.stderr, result.stderr
    recording = (tmp_path / "call.wav").read_bytes()
    assert recording[:4] == b"RIFF" and recording[8:12] == b"WAVE", recording[:200]
    banner_lines = len(run_script.lines)

    run_script.ctrl_c()
    began = time.monotonic()
    wait_until(lambda: not run_script.processes(), timeout=30, interval=0.05,
               message="every process run.sh started to stop")  # fmt: skip
    elapsed = time.monotonic() - began
    assert run_script.process.wait(timeout=scaled(5)) == 0
    assert elapsed < scaled(STOP_SECONDS), f"stopping took {elapsed:.1f} s"
    after = "\n".join(run_script.lines[banner_lines:])
    assert "==> Stopped" in after
    assert not [word for word in ALARMING if word in after], after
