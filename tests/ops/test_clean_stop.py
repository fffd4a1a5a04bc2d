"""Ctrl-C or SIGTERM stops the web server, the worker and beat together: exit 0 within 10 s, no orphan.

Each test starts the supervisor ``make serve`` / ``make run`` run (config.supervise with Procfile or
Procfile.dev) as a session of its own, on SQLite and the filesystem broker in a temporary
DOORSTEP_VAR_DIR and a free port, waits until /healthz/ answers, signals the whole process group as a
terminal or a service manager would, and then looks for any process that was started under it.
"""

import fcntl
import os
import pty
import secrets
import signal
import socket
import subprocess
import sys
import termios
import threading
import time
import urllib.request
from pathlib import Path

import psutil
import pytest

ROOT = Path(__file__).resolve().parents[2]
STOP_SECONDS = 10


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _environment(var_dir: Path, port: int, *, production: bool) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "PROMETHEUS_MULTIPROC_DIR")}
    env |= {"DOORSTEP_VAR_DIR": str(var_dir), "HOST": "127.0.0.1", "PORT": str(port), "WEB_CONCURRENCY": "2"}
    env |= {"CELERY_CONCURRENCY": "1", "PYTHONUNBUFFERED": "1"}
    if production:
        env |= {
            "DEBUG": "false",
            "SECRET_KEY": secrets.token_urlsafe(50),
            "FIELD_ENCRYPTION_KEY": secrets.token_urlsafe(50),
            "ALLOWED_HOSTS": "127.0.0.1",
            "SECURE_SSL_REDIRECT": "false",
        }
    else:
        env["DEBUG"] = "true"
    return env


def _wait_until_serving(process: subprocess.Popen, port: int, log: Path, timeout: float = 45) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.poll() is None, f"the supervisor exited early:\n{log.read_text()[-3000:]}"
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz/", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.3)
    pytest.fail(f"/healthz/ never answered:\n{log.read_text()[-3000:]}")


def _wait_for(descendants, names: list[str], timeout: float = 30) -> list[psutil.Process]:
    """The processes under the supervisor, once one runs each of ``names`` (a worker is slower than the web)."""
    deadline = time.monotonic() + timeout
    while True:
        found = descendants()
        lines = [" ".join(p.cmdline()) for p in found if p.is_running()]
        if all(any(name in line for line in lines) for name in names) or time.monotonic() > deadline:
            return found
        time.sleep(0.3)


def _survivors(processes: list[psutil.Process], groups: set[int]) -> list[str]:
    left = [p for p in processes if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]
    for proc in psutil.process_iter(["pid", "status"]):
        try:
            if os.getpgid(proc.pid) in groups and proc.info["status"] != psutil.STATUS_ZOMBIE:
                left.append(proc)
        except (ProcessLookupError, psutil.NoSuchProcess):
            continue
    return sorted({f"{p.pid} {' '.join(p.cmdline())}" for p in left if p.is_running()})


def _run_and_stop(tmp_path: Path, procfile: str, names: list[str], sig: int, *, production: bool) -> None:
    port = _free_port()
    log = tmp_path / "supervise.log"
    with log.open("w") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "config.supervise", procfile],
            cwd=ROOT,
            env=_environment(tmp_path / "var", port, production=production),
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        _wait_until_serving(process, port, log)
        supervisor = psutil.Process(process.pid)
        processes = _wait_for(lambda: supervisor.children(recursive=True), names)
        commands = [" ".join(p.cmdline()) for p in processes]
        for name in names:
            assert any(name in command for command in commands), (name, commands)
        groups = {os.getpgid(p.pid) for p in processes if p.is_running()} | {process.pid}

        started = time.monotonic()
        os.killpg(process.pid, sig)
        returncode = process.wait(timeout=STOP_SECONDS)
        elapsed = time.monotonic() - started
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    assert returncode == 0, log.read_text()[-3000:]
    assert elapsed < STOP_SECONDS
    assert _survivors(processes, groups) == [], log.read_text()[-3000:]


def test_sigterm_stops_the_production_server_worker_and_beat_cleanly(tmp_path):
    _run_and_stop(tmp_path, "Procfile", ["gunicorn", "worker", "beat"], signal.SIGTERM, production=True)


def test_ctrl_c_stops_the_development_server_and_worker_cleanly(tmp_path):
    _run_and_stop(tmp_path, "Procfile.dev", ["runserver", "worker --beat"], signal.SIGINT, production=False)


def test_a_process_that_dies_stops_the_others_and_fails(tmp_path):
    procfile = tmp_path / "Procfile"
    procfile.write_text("sleeper: python -c 'import time; time.sleep(60)'\nquitter: python -c 'raise SystemExit(3)'\n")
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-m", "config.supervise", str(procfile)], cwd=ROOT, capture_output=True, text=True, timeout=20
    )
    assert result.returncode == 1
    assert "quitter exited with 3; stopping the others" in result.stderr
    assert time.monotonic() - started < STOP_SECONDS


def test_ctrl_c_in_a_terminal_stops_make_run_with_exit_0(tmp_path):
    # make re-raises a Ctrl-C it receives itself (exit 130): the supervisor takes the terminal's
    # foreground, so the Ctrl-C reaches it alone and make sees its recipe end with 0.
    procfile = tmp_path / "Procfile"
    procfile.write_text("sleeper: python -c 'import time; time.sleep(120)'\n")
    makefile = tmp_path / "Makefile"
    makefile.write_text(f"run:\n\t@exec {sys.executable} -m config.supervise {procfile}\n")
    master, slave = pty.openpty()

    def controlling_terminal():
        fcntl.ioctl(0, termios.TIOCSCTTY, 0)

    make = subprocess.Popen(
        ["make", "-f", str(makefile), "run"],
        cwd=ROOT,
        stdin=slave,
        stdout=slave,
        stderr=slave,
        start_new_session=True,
        preexec_fn=controlling_terminal,
    )
    os.close(slave)
    output = bytearray()
    reader = threading.Thread(target=_drain, args=(master, output), daemon=True)
    reader.start()
    try:
        deadline = time.monotonic() + 30
        while b"started sleeper" not in output and time.monotonic() < deadline:
            time.sleep(0.1)
        assert b"started sleeper" in output, output.decode(errors="replace")
        processes = psutil.Process(make.pid).children(recursive=True)
        os.write(master, b"\x03")  # Ctrl-C
        returncode = make.wait(timeout=STOP_SECONDS)
    finally:
        if make.poll() is None:
            os.killpg(make.pid, signal.SIGKILL)
            make.wait()
        os.close(master)
    assert returncode == 0, output.decode(errors="replace")
    assert b"supervise: stopping" in output
    assert _survivors(processes, set()) == []


def _drain(fd: int, into: bytearray) -> None:
    while True:
        try:
            chunk = os.read(fd, 4096)
        except OSError:
            return
        if not chunk:
            return
        into.extend(chunk)
