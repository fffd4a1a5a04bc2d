"""Runs the processes of a Procfile together and stops them together (``make run``, ``make serve``).

``python -m config.supervise Procfile [--env-file var/keys.env]``

Each process starts in a session of its own, so a Ctrl-C in the terminal reaches only this supervisor,
which then stops every process *group* (gunicorn's or Celery's children included) with SIGTERM, waits
up to ``SUPERVISE_GRACE_SECONDS`` and kills what is left with SIGKILL. A requested stop exits 0; a
process that dies on its own stops the others and exits 1. Nothing outlives the supervisor short of a
SIGKILL to the supervisor itself.

A Procfile line is ``name: command``; ``python`` at the start of a command is this interpreter, and
``$VAR`` / ``${VAR}`` are taken from the environment (after the env file).
"""

import argparse
import contextlib
import os
import shlex
import signal
import string
import subprocess
import sys
import time
from pathlib import Path

DEFAULT_GRACE_SECONDS = 5.0


def read_procfile(path: Path, environ: dict[str, str]) -> list[tuple[str, list[str]]]:
    processes = []
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        name, _, command = line.partition(":")
        argv = [_expand(arg, environ) for arg in shlex.split(command)]
        if argv and argv[0] == "python":
            argv[0] = sys.executable
        processes.append((name.strip(), argv))
    if not processes:
        raise SystemExit(f"{path}: no processes")
    return processes


def _expand(arg: str, environ: dict[str, str]) -> str:
    return string.Template(arg).safe_substitute(environ)


def read_env_file(path: Path) -> dict[str, str]:
    values = {}
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if line and not line.startswith("#") and "=" in line:
            key, _, value = line.partition("=")
            values[key.strip().removeprefix("export ").strip()] = value.strip().strip("'\"")
    return values


def _group_alive(pgid: int) -> bool:
    """Whether any process of the group still runs (zombies waiting for a reaper do not count)."""
    proc = Path("/proc")
    if not proc.is_dir():
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return False
        return True
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # "pid (comm) state ppid pgrp ...": comm may hold spaces or parentheses, so split after the last ")".
        fields = stat[stat.rindex(")") + 2 :].split()
        if int(fields[2]) == pgid and fields[0] not in ("Z", "X"):
            return True
    return False


def _signal_group(pgid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, sig)


class Supervisor:
    def __init__(self, processes: list[tuple[str, list[str]]], environ: dict[str, str], grace: float):
        self.processes = processes
        self.environ = environ
        self.grace = grace
        self.children: dict[str, subprocess.Popen] = {}
        self.stop_requested = False

    def _request_stop(self, signum, frame) -> None:
        self.stop_requested = True

    def run(self) -> int:
        signal.signal(signal.SIGINT, self._request_stop)
        signal.signal(signal.SIGTERM, self._request_stop)
        signal.signal(signal.SIGHUP, self._request_stop)
        for name, argv in self.processes:
            self.children[name] = subprocess.Popen(argv, env=self.environ, start_new_session=True)  # noqa: S603
            self._say(f"started {name} (pid {self.children[name].pid}): {shlex.join(argv)}")
        failed = None
        while not self.stop_requested and failed is None:
            for name, child in self.children.items():
                if child.poll() is not None:
                    failed = name
                    break
            else:
                time.sleep(0.2)
        if failed:
            self._say(f"{failed} exited with {self.children[failed].returncode}; stopping the others")
        else:
            self._say("stopping")
        self.stop()
        return 0 if failed is None else 1

    def stop(self) -> None:
        # SIGTERM to each leader (gunicorn's master, Celery's main process), which stops its own children
        # in order; whatever of a group is left after the grace period gets SIGKILL.
        for child in self.children.values():
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + self.grace
        orphans_told = set()
        while time.monotonic() < deadline and any(_group_alive(child.pid) for child in self.children.values()):
            for child in self.children.values():
                # A leader gone before its children (runserver's reloader): tell the rest of its group.
                if child.poll() is not None and child.pid not in orphans_told and _group_alive(child.pid):
                    _signal_group(child.pid, signal.SIGTERM)
                    orphans_told.add(child.pid)
            time.sleep(0.1)
        for name, child in self.children.items():
            if _group_alive(child.pid):
                self._say(f"{name} did not stop within {self.grace:.0f} s; killing it")
                _signal_group(child.pid, signal.SIGKILL)
        settle = time.monotonic() + 2
        for child in self.children.values():
            child.wait()
            while _group_alive(child.pid) and time.monotonic() < settle:
                _signal_group(child.pid, signal.SIGKILL)
                time.sleep(0.05)

    def _say(self, message: str) -> None:
        print(f"{time.strftime('%H:%M:%S')} supervise: {message}", file=sys.stderr, flush=True)


@contextlib.contextmanager
def terminal_foreground():
    """Take the terminal's foreground for this process alone, while it runs.

    Ctrl-C signals the terminal's whole foreground process group: under ``make`` that is make too, and
    make then dies of the signal (exit 130) whatever its recipe does. In a group of its own, and in
    the foreground, the supervisor alone gets the Ctrl-C, stops everything, exits 0, and so does make.
    Without a terminal (a service manager, CI) nothing changes.
    """
    try:
        tty = os.open("/dev/tty", os.O_RDWR)
    except OSError:
        yield
        return
    try:
        previous = os.tcgetpgrp(tty)
        # In the background, leave the terminal alone; already leading a group, nothing to gain.
        if previous != os.getpgrp() or os.getpgrp() == os.getpid():
            yield
            return
        signal.signal(signal.SIGTTOU, signal.SIG_IGN)  # a background group may not set the foreground
        os.setpgid(0, 0)
        os.tcsetpgrp(tty, os.getpgrp())
        try:
            yield
        finally:
            with contextlib.suppress(OSError):
                os.tcsetpgrp(tty, previous)
    finally:
        os.close(tty)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("procfile", type=Path)
    parser.add_argument("--env-file", type=Path, action="append", default=[])
    args = parser.parse_args(argv)
    environ = dict(os.environ)
    for env_file in args.env_file:
        environ.update(read_env_file(env_file))
    grace = float(environ.get("SUPERVISE_GRACE_SECONDS", DEFAULT_GRACE_SECONDS))
    supervisor = Supervisor(read_procfile(args.procfile, environ), environ, grace)
    with terminal_foreground():
        return supervisor.run()


if __name__ == "__main__":
    sys.exit(main())
