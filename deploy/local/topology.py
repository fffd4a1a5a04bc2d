"""The scaled-out topology on one machine (README, "Scaled-out topology"): what a bank runs on several hosts,
started here as unprivileged processes under one directory, on loopback ports from a base (18400 by default).

    haproxy :base      -> gunicorn app1 :base+11, app2 :base+12   (health check /healthz/, redispatch on refusal)
    app1/app2, celery worker1/worker2, beat
        -> pgbouncer :base+32 (transaction pooling) -> PostgreSQL primary :base+33
        -> PostgreSQL streaming replica :base+34 (pg_basebackup; read-only pages, config.db_router)
        -> Redis (the machine's, or one started here on :base+79): broker and the shared dashboard cache
    sessions in the database, uploads in one shared MEDIA_ROOT, so any app server serves any request.

``python deploy/local/topology.py up|down|status|kill NAME|start NAME``; ``up`` is idempotent (a running part is
left alone) and ``down --purge`` also removes the directory. Only the standard library, so ``up`` runs before the
app's own packages are imported. PostgreSQL and pgbouncer refuse to run as root: as root they run as ``postgres``.
"""

import contextlib
import json
import os
import pwd
import secrets
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parents[2]
PG_BIN = Path(os.environ.get("TOPOLOGY_PG_BIN", "/usr/lib/postgresql/15/bin"))
DATABASE = "doorstep"
APP_SERVERS = ("app1", "app2")
WORKERS = ("worker1", "worker2")
START_TIMEOUT = 60


def _which(name: str) -> str:
    found = shutil.which(name) or shutil.which(name, path="/usr/sbin:/sbin")
    if not found:
        sys.exit(f"{name} not found: install it with .ci/system-packages (Debian package {name})")
    return found


class Topology:
    def __init__(self, root: Path | None = None, port_base: int | None = None):
        self.root = Path(root or os.environ.get("TOPOLOGY_DIR") or BASE_DIR / "var" / "topology").resolve()
        base = int(port_base or os.environ.get("TOPOLOGY_PORT_BASE") or 18400)
        self.ports = {
            "haproxy": base,
            "haproxy_stats": base + 1,
            "app1": base + 11,
            "app2": base + 12,
            "pgbouncer": base + 32,
            "primary": base + 33,
            "replica": base + 34,
            "redis": base + 79,
        }
        self.pg_dir = self.root / "pg"  # owned by the database user
        self.run_dir = self.root / "run"
        self.log_dir = self.root / "log"
        self.pg_user = "postgres" if os.geteuid() == 0 else None

    # --- paths and environment --------------------------------------------------------------------------

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.ports['haproxy']}"

    def database_url(self, part: str = "pgbouncer") -> str:
        return f"postgres://postgres@127.0.0.1:{self.ports[part]}/{DATABASE}"

    @property
    def redis_url(self) -> str:
        state = self._state()
        return state.get("redis_url") or os.environ.get("TOPOLOGY_REDIS_URL") or "redis://127.0.0.1:6379/12"

    def _state(self) -> dict:
        path = self.root / "topology.json"
        return json.loads(path.read_text()) if path.exists() else {}

    def _secrets(self) -> dict:
        path = self.root / "secrets.json"
        if not path.exists():
            path.write_text(
                json.dumps({"SECRET_KEY": secrets.token_hex(32), "FIELD_ENCRYPTION_KEY": secrets.token_hex(32)})
            )
            path.chmod(0o600)
        return json.loads(path.read_text())

    def app_env(self, *, direct: bool = False) -> dict:
        """The environment of every app process; ``direct`` skips pgbouncer (migrations, checks)."""
        dropped = ("DATABASE_URL", "DATABASE_REPLICA_URL", "DATABASE_TRANSACTION_POOLING", "DJANGO_SETTINGS_MODULE")
        env = {key: value for key, value in os.environ.items() if key not in dropped}
        env.update(self._secrets())
        env.update(
            DEBUG="false",
            ALLOWED_HOSTS="127.0.0.1,localhost",
            # Plain HTTP on loopback; a real deployment terminates TLS at the balancer.
            SECURE_SSL_REDIRECT="false",
            DATABASE_URL=self.database_url("primary" if direct else "pgbouncer"),
            DATABASE_TRANSACTION_POOLING="false" if direct else "true",
            DATABASE_REPLICA_URL=self.database_url("replica"),
            REDIS_URL=self.redis_url,
            DOORSTEP_VAR_DIR=str(self.root / "app"),
            MEDIA_ROOT=str(self.root / "media"),
            CELERY_TASK_ALWAYS_EAGER="false",
            PYTHONUNBUFFERED="1",
        )
        return env

    # --- processes ----------------------------------------------------------------------------------------

    def _as_pg_user(self) -> dict:
        return {"user": self.pg_user, "group": self.pg_user, "extra_groups": []} if self.pg_user else {}

    def _run(self, cmd: list, *, pg: bool = False, env: dict | None = None, check: bool = True, **kwargs):
        done = subprocess.run(
            [str(c) for c in cmd],
            cwd=BASE_DIR if not pg else self.root,
            env=env,
            check=False,
            capture_output=True,
            text=True,
            **(self._as_pg_user() if pg else {}),
            **kwargs,
        )
        if check and done.returncode != 0:
            raise RuntimeError(f"{' '.join(map(str, cmd))} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
        return done

    def _pidfile(self, name: str) -> Path:
        return self.run_dir / f"{name}.pid"

    def pid(self, name: str) -> int | None:
        path = self._pidfile(name)
        if not path.exists():
            return None
        pid = int(path.read_text())
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return None
        return pid

    def _spawn(self, name: str, cmd: list, *, env: dict | None = None, pg: bool = False) -> int:
        if self.pid(name):
            return self.pid(name)
        log = (self.log_dir / f"{name}.log").open("a")
        # Its own process group, so a kill reaches a gunicorn master or a Celery worker and its children.
        process = subprocess.Popen(
            [str(c) for c in cmd],
            cwd=BASE_DIR,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            **(self._as_pg_user() if pg else {}),
        )
        self._pidfile(name).write_text(str(process.pid))
        return process.pid

    def kill(self, name: str, sig: int = signal.SIGKILL, wait: float = 15) -> None:
        """Signal a part's whole process group and wait for it to be gone."""
        pid = self.pid(name)
        if pid is None:
            return
        try:
            os.killpg(pid, sig)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            try:
                os.killpg(pid, 0)
            except ProcessLookupError:
                break
            _reap(pid)
            time.sleep(0.1)
        else:
            os.killpg(pid, signal.SIGKILL)
            time.sleep(0.2)
        _reap(pid)

    # --- the parts ----------------------------------------------------------------------------------------

    def _pg_ctl(self, cluster: str, *args) -> subprocess.CompletedProcess:
        data = self.pg_dir / cluster
        return self._run([PG_BIN / "pg_ctl", "-D", data, "-l", self.pg_dir / f"{cluster}.log", *args], pg=True)

    def _pg_running(self, cluster: str) -> bool:
        return (
            self._run([PG_BIN / "pg_ctl", "-D", self.pg_dir / cluster, "status"], pg=True, check=False).returncode == 0
        )

    def start_primary(self) -> None:
        data = self.pg_dir / "primary"
        if not (data / "PG_VERSION").exists():
            self._run(
                [PG_BIN / "initdb", "-D", data, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-locale"], pg=True
            )
            with (data / "postgresql.conf").open("a") as conf:
                conf.write(
                    f"\n# Doorstep local topology\nport = {self.ports['primary']}\nlisten_addresses = '127.0.0.1'\n"
                    f"unix_socket_directories = '{self.pg_dir}'\nwal_level = replica\nmax_wal_senders = 5\n"
                    "max_replication_slots = 5\nmax_connections = 100\nhot_standby = on\n"
                    # Behind pgbouncer in transaction mode no session setting survives: Django finds UTC set.
                    "timezone = 'UTC'\nshared_buffers = 64MB\n"
                )
                if os.environ.get("TOPOLOGY_FSYNC") == "off":
                    # Throwaway test clusters only: no machine crash is simulated, so flushes buy nothing there.
                    conf.write("fsync = off\nfull_page_writes = off\n")
            (data / "pg_hba.conf").write_text(
                "local all all trust\nhost all all 127.0.0.1/32 trust\nhost replication all 127.0.0.1/32 trust\n"
            )
        if not self._pg_running("primary"):
            self._pg_ctl("primary", "-w", "-t", str(START_TIMEOUT), "start")
        exists = self._psql("primary", f"SELECT 1 FROM pg_database WHERE datname = '{DATABASE}'")
        if exists.strip() != "1":
            self._psql("primary", f"CREATE DATABASE {DATABASE}", database="postgres")

    def _psql(self, part: str, sql: str, database: str = "postgres") -> str:
        out = self._run(
            ["psql", "-h", "127.0.0.1", "-p", self.ports[part], "-U", "postgres", "-d", database, "-tAc", sql]
        )
        return out.stdout

    def start_replica(self) -> None:
        data = self.pg_dir / "replica"
        if not (data / "PG_VERSION").exists():
            cmd = [PG_BIN / "pg_basebackup", "-h", "127.0.0.1", "-p", self.ports["primary"], "-U", "postgres"]
            self._run([*cmd, "-D", data, "-R", "-X", "stream", "-c", "fast"], pg=True)
            with (data / "postgresql.conf").open("a") as conf:
                conf.write(f"\n# the streaming replica\nport = {self.ports['replica']}\n")
        if not self._pg_running("replica"):
            self._pg_ctl("replica", "-w", "-t", str(START_TIMEOUT), "start")

    def start_pgbouncer(self) -> None:
        ini = self.pg_dir / "pgbouncer.ini"
        users = self.pg_dir / "userlist.txt"
        users.write_text('"postgres" ""\n')
        ini.write_text(
            "[databases]\n"
            f"{DATABASE} = host=127.0.0.1 port={self.ports['primary']} dbname={DATABASE}\n"
            "[pgbouncer]\n"
            f"listen_addr = 127.0.0.1\nlisten_port = {self.ports['pgbouncer']}\nunix_socket_dir =\n"
            f"auth_type = trust\nauth_file = {users}\nadmin_users = postgres\n"
            "pool_mode = transaction\nmax_client_conn = 400\ndefault_pool_size = 20\n"
            "server_login_retry = 1\nserver_connect_timeout = 3\n"
        )
        self._spawn("pgbouncer", [_which("pgbouncer"), ini], pg=True)

    def start_redis(self) -> str:
        """The machine's Redis when it answers; else one of our own, without persistence."""
        wanted = os.environ.get("TOPOLOGY_REDIS_URL") or "redis://127.0.0.1:6379/12"
        host_port = wanted.split("//", 1)[1].split("/", 1)[0]
        host, _, port = host_port.rpartition(":")
        ping = subprocess.run(
            ["redis-cli", "-h", host, "-p", port, "ping"], capture_output=True, text=True, check=False
        )
        if ping.stdout.strip() == "PONG":
            return wanted
        own = self.ports["redis"]
        cmd = [_which("redis-server"), "--bind", "127.0.0.1", "--port", own, "--save", "", "--appendonly", "no"]
        self._spawn("redis", [*cmd, "--dir", self.root])
        return f"redis://127.0.0.1:{own}/0"

    def prepare_app(self) -> None:
        env = self.app_env(direct=True)
        python = BASE_DIR / ".venv" / "bin" / "python"
        # The static files' manifest (DEBUG off) is built while the schema migrates.
        static = subprocess.Popen(
            [python, "manage.py", "collectstatic", "--noinput", "-v", "0"],
            cwd=BASE_DIR,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=(self.log_dir / "collectstatic.log").open("w"),
        )
        self._run([python, "manage.py", "migrate", "--noinput", "-v", "0"], env=env)
        _step("migrated")
        accounts = os.environ.get("TOPOLOGY_SEED_ACCOUNTS", "60")
        if accounts != "none":
            self._run([python, "manage.py", "seed_demo", "--if-empty", "--force", "--accounts", accounts], env=env)
            _step("seeded")
        if static.wait() != 0:
            sys.exit(f"collectstatic failed; see {self.log_dir / 'collectstatic.log'}")
        _step("static files collected")

    def start_app(self, name: str) -> None:
        cmd = [BASE_DIR / ".venv" / "bin" / "gunicorn", "config.wsgi:application", "--name", f"doorstep-{name}"]
        cmd += ["--bind", f"127.0.0.1:{self.ports[name]}", "--workers", os.environ.get("TOPOLOGY_APP_WORKERS", "2")]
        cmd += ["--timeout", "30", "--graceful-timeout", "5", "--access-logfile", "-", "--error-logfile", "-"]
        self._spawn(name, cmd, env=self.app_env())

    def start_worker(self, name: str) -> None:
        cmd = [BASE_DIR / ".venv" / "bin" / "celery", "-A", "config", "worker", "-n", f"{name}@%h"]
        cmd += ["--concurrency=1", "--without-gossip", "--without-mingle", "--loglevel=INFO"]
        self._spawn(name, cmd, env=self.app_env())

    def start_beat(self) -> None:
        schedule = self.root / "app" / "celerybeat-schedule"
        cmd = [BASE_DIR / ".venv" / "bin" / "celery", "-A", "config", "beat", "-s", schedule, "--loglevel=INFO"]
        self._spawn("beat", cmd, env=self.app_env())

    def start_haproxy(self) -> None:
        cfg = self.run_dir / "haproxy.cfg"
        servers = "\n".join(f"  server {name} 127.0.0.1:{self.ports[name]} check" for name in APP_SERVERS)
        cfg.write_text(
            "global\n  maxconn 1000\n  log stderr format raw local0 notice\n"
            "defaults\n  mode http\n  log global\n  option httplog\n  timeout connect 2s\n"
            # A health check waits behind the requests a busy sync worker has queued: give it time, and take a
            # server out only after three failures in a row, or a burst of load takes both out at once.
            "  timeout client 60s\n  timeout server 60s\n  timeout check 5s\n"
            # A refused connection (a dead app server) is retried once on the other one; a request already sent
            # is never replayed, since a POST may have been done.
            "  retries 2\n  option redispatch 1\n  retry-on conn-failure\n"
            f"frontend web\n  bind 127.0.0.1:{self.ports['haproxy']}\n  default_backend app\n"
            "backend app\n  balance roundrobin\n  option httpchk\n"
            "  http-check send meth GET uri /healthz/ ver HTTP/1.1 hdr Host 127.0.0.1\n"
            "  default-server inter 2s fall 3 rise 2\n"
            f"{servers}\n"
            f"listen stats\n  bind 127.0.0.1:{self.ports['haproxy_stats']}\n  stats enable\n  stats uri /\n"
        )
        self._run([_which("haproxy"), "-c", "-q", "-f", cfg])
        self._spawn("haproxy", [_which("haproxy"), "-db", "-f", cfg])

    def start(self, name: str) -> None:
        """(Re)start one app server, worker or beat after a kill."""
        if name in APP_SERVERS:
            self.start_app(name)
        elif name in WORKERS:
            self.start_worker(name)
        elif name == "beat":
            self.start_beat()
        elif name == "haproxy":
            self.start_haproxy()
        elif name == "pgbouncer":
            self.start_pgbouncer()
        else:
            raise ValueError(f"unknown part {name!r}")

    def wait_healthy(self, name: str, timeout: float = START_TIMEOUT) -> None:
        url = f"http://127.0.0.1:{self.ports[name]}/healthz/"
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.pid(name) is None:
                raise RuntimeError(f"{name} exited; see {self.log_dir / (name + '.log')}")
            try:
                with urllib.request.urlopen(url, timeout=3) as response:
                    if response.status == 200:
                        return
            except OSError:
                pass
            time.sleep(0.3)
        raise RuntimeError(f"{name} not healthy after {timeout} s; see {self.log_dir / (name + '.log')}")

    # --- up and down --------------------------------------------------------------------------------------

    def up(self) -> None:
        for path in (self.root, self.run_dir, self.log_dir, self.root / "app", self.root / "media"):
            path.mkdir(parents=True, exist_ok=True)
        self.pg_dir.mkdir(mode=0o700, exist_ok=True)
        if self.pg_user:
            info = pwd.getpwnam(self.pg_user)
            os.chown(self.pg_dir, info.pw_uid, info.pw_gid)
            os.chown(self.run_dir, info.pw_uid, info.pw_gid)
            try:
                reachable = self._run(["test", "-w", self.pg_dir], pg=True, check=False).returncode == 0
            except OSError:
                reachable = False
            if not reachable:
                sys.exit(
                    f"{self.pg_user} cannot reach {self.pg_dir} (a parent folder is closed to it): "
                    "set TOPOLOGY_DIR to a folder it can reach, e.g. /tmp/doorstep-topology"
                )
        started = time.monotonic()
        self.start_primary()
        _step("primary")
        self.start_replica()
        _step("replica")
        self.start_pgbouncer()
        redis = self.start_redis()
        (self.root / "topology.json").write_text(json.dumps({"redis_url": redis, "ports": self.ports, "url": self.url}))
        self.prepare_app()
        for name in APP_SERVERS:
            self.start_app(name)
        for name in WORKERS:
            self.start_worker(name)
        self.start_beat()
        self.start_haproxy()
        _step("processes started")
        for name in (*APP_SERVERS, "haproxy"):
            self.wait_healthy(name)
        print(f"topology up in {time.monotonic() - started:.1f} s: {self.url}/ (log in as manager / doorstep-demo)")
        self.status()

    def down(self, purge: bool = False) -> None:
        for name in ("haproxy", *APP_SERVERS, *WORKERS, "beat", "pgbouncer", "redis"):
            self.kill(name, signal.SIGTERM)
            self._pidfile(name).unlink(missing_ok=True)
        for cluster in ("replica", "primary"):
            if (self.pg_dir / cluster / "postmaster.pid").exists():
                data = self.pg_dir / cluster
                self._run([PG_BIN / "pg_ctl", "-D", data, "-m", "fast", "-w", "stop"], pg=True, check=False)
        if purge and self.root.exists():
            shutil.rmtree(self.root)
        print("topology down" + (" and removed" if purge else ""))

    def status(self) -> None:
        for name in ("haproxy", *APP_SERVERS, *WORKERS, "beat", "pgbouncer", "redis"):
            pid = self.pid(name)
            port = self.ports.get(name)
            state = f"pid {pid}" if pid else ("the machine's" if name == "redis" else "stopped")
            print(f"  {name:10} {state:14} {f':{port}' if port and pid else ''}")
        for cluster in ("primary", "replica"):
            running = (self.pg_dir / cluster).exists() and self._pg_running(cluster)
            print(f"  {cluster:10} {'running' if running else 'stopped':14} :{self.ports[cluster]}")


_STARTED = time.monotonic()


def _step(what: str) -> None:
    print(f"  {time.monotonic() - _STARTED:5.1f} s  {what}", flush=True)


def _reap(pid: int) -> None:
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)


def main(argv: list[str]) -> None:
    topology = Topology()
    command = argv[0] if argv else "up"
    if command == "up":
        try:
            topology.up()
        except RuntimeError as exc:
            sys.exit(str(exc))
    elif command == "down":
        topology.down(purge="--purge" in argv)
    elif command == "status":
        topology.status()
    elif command in ("kill", "start") and len(argv) == 2:
        topology.kill(argv[1]) if command == "kill" else topology.start(argv[1])
    else:
        sys.exit("usage: topology.py up | down [--purge] | status | kill NAME | start NAME")


if __name__ == "__main__":
    main(sys.argv[1:])
