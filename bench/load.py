"""Throughput of one gunicorn server under the realistic mix (README, "Performance": throughput).

    python -m bench.load [--scale 10k] [--clients 2,4,8,16] [--seconds 20] [--label after]

Starts one gunicorn server (config/gunicorn.conf.py, DEBUG off) on the bench database
``doorstep_bench_<scale>`` (``make bench`` or ``python -m bench.generate`` makes it), logs in one
collector per client thread and, for each number of clients, runs the mix for ``--seconds``:
case list 30 %, case page 25 %, API case list 10 %, visit POST 15 %, payment POST 10 %, contact POST 10 %.
It reports requests/s and p50/p95 per page at each level, the best requests/s with p95 ≤ 500 ms,
and the server's CPU milliseconds per request by page (one client, one page at a time, the CPU time
of the gunicorn processes divided by the requests). Results go to bench/results.json under "load".
Bounded: at most len(clients) times seconds of load plus a short CPU phase; loopback only.
"""

import argparse
import datetime as dt
import json
import os
import random
import re
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
import uuid
from html.parser import HTMLParser
from pathlib import Path

import psutil
import requests

from bench.common import BENCH_ENV, RESULTS_PATH, database_url

ROOT = Path(__file__).resolve().parent.parent
P95_BUDGET_MS = 500.0
MIX = [
    ("case_list", 30),
    ("case_page", 25),
    ("api_cases", 10),
    ("visit_post", 15),
    ("payment_post", 10),
    ("contact_post", 10),
]
PASSWORD = "doorstep-bench"  # noqa: S105 -- bench.builders.BENCH_PASSWORD, synthetic users


class _FormParser(HTMLParser):
    """The default values of a form's fields, as a browser would submit them untouched."""

    def __init__(self):
        super().__init__()
        self.values: dict[str, str] = {}
        self._select = None
        self._selected = False
        self._textarea = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        name = attrs.get("name")
        if tag == "input" and name:
            kind = attrs.get("type", "text")
            if kind in ("checkbox", "radio"):
                if "checked" in attrs:
                    self.values[name] = attrs.get("value", "on")
            elif kind not in ("submit", "file", "button"):
                self.values[name] = attrs.get("value", "")
        elif tag == "select" and name:
            self._select = name
            self._selected = False
            self.values.pop(name, None)
        elif tag == "option" and self._select:
            # A browser submits the selected option, else the first one (even when its value is empty).
            if "selected" in attrs and not self._selected:
                self.values[self._select] = attrs.get("value", "")
                self._selected = True
            elif self._select not in self.values:
                self.values[self._select] = attrs.get("value", "")
        elif tag == "textarea" and name:
            self._textarea = name
            self.values[name] = ""

    def handle_data(self, data):
        if self._textarea:
            self.values[self._textarea] += data

    def handle_endtag(self, tag):
        if tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None


def form_defaults(html: str) -> dict[str, str]:
    parser = _FormParser()
    parser.feed(html)
    return parser.values


class Client:
    """One browser: its own cookies (sent by hand: the Secure cookies of DEBUG-off travel over plain
    HTTP here, on loopback), its CSRF token, its collector's cases."""

    def __init__(self, base: str, username: str, cases: dict):
        self.base = base
        self.http = requests.Session()
        self.http.trust_env = False
        self.cookies: dict[str, str] = {}
        self.username = username
        self.cases = cases
        self.forms: dict[str, dict] = {}

    def request(self, method: str, path: str, **kwargs) -> requests.Response:
        headers = kwargs.pop("headers", {})
        if method == "POST":
            headers["X-CSRFToken"] = self.cookies.get("csrftoken", "")
        response = self.http.request(
            method, self.base + path, cookies=self.cookies, headers=headers, allow_redirects=False, timeout=30, **kwargs
        )
        self.cookies.update(response.cookies.get_dict())
        return response

    def login(self) -> None:
        page = self.request("GET", "/accounts/login/")
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
        done = self.request(
            "POST",
            "/accounts/login/",
            data={"username": self.username, "password": PASSWORD, "csrfmiddlewaretoken": token},
        )
        if done.status_code != 302:
            raise SystemExit(f"login of {self.username} failed: HTTP {done.status_code}")

    def prepare_forms(self) -> None:
        for kind, path in (
            ("visit_post", f"/cases/{self.cases['visit']}/visits/new/"),
            ("payment_post", f"/cases/{self.cases['payment']}/payments/new/"),
            ("contact_post", f"/cases/{self.cases['contact']}/contact/"),
        ):
            page = self.request("GET", path)
            if page.status_code != 200:
                raise SystemExit(f"{path} as {self.username}: HTTP {page.status_code}")
            self.forms[kind] = (path, form_defaults(page.text))

    def post(self, kind: str) -> requests.Response:
        path, defaults = self.forms[kind]
        data = dict(defaults)
        # "other" keeps the case in the visit stage, so the next visit is accepted too.
        # Daytime yesterday, borrower time: inside the rule pack's contact hours whenever the bench runs.
        local_now = dt.datetime.now(dt.UTC) + dt.timedelta(hours=8)  # Asia/Shanghai, the bench data's zone
        yesterday = (local_now - dt.timedelta(days=1)).replace(hour=14)
        daytime = yesterday.strftime("%Y-%m-%dT%H:%M")
        if "idempotency_key" in data:
            data["idempotency_key"] = str(uuid.uuid4())
        if kind == "visit_post":
            # Checked out half an hour later: a visit left open since yesterday would be refused as too long.
            daytime_out = (yesterday + dt.timedelta(minutes=30)).strftime("%Y-%m-%dT%H:%M")
            data |= {"checked_in_at": daytime, "checked_out_at": daytime_out}
            data |= {"identity_confirmed": "on", "met": "borrower", "outcome": "other"}
            data |= {"geo_status": "unavailable", "notes": "bench"}
        elif kind == "payment_post":
            data |= {"amount": "1.00", "paid_on": local_now.date().isoformat(), "reference": uuid.uuid4().hex[:12]}
        else:
            data |= {"result": "answered", "attempted_at": daytime, "note": "bench"}
        return self.request("POST", path, data=data)

    def get(self, kind: str) -> requests.Response:
        path = {
            "case_list": "/cases/",
            "case_page": f"/cases/{random.choice(self.cases['open'])}/",
            "api_cases": "/api/v1/cases/",
        }[kind]
        return self.request("GET", path)

    def hit(self, kind: str) -> requests.Response:
        return self.post(kind) if kind.endswith("_post") else self.get(kind)


def expected(kind: str, status: int) -> bool:
    return status == (302 if kind.endswith("_post") else 200)


def run_level(clients: list[Client], seconds: float) -> dict:
    kinds, weights = zip(*MIX, strict=True)
    samples: dict[str, list[float]] = {kind: [] for kind in kinds}
    errors: dict[str, int] = dict.fromkeys(kinds, 0)
    lock = threading.Lock()
    stop_at = time.monotonic() + seconds

    def work(client: Client, seed: int):
        rng = random.Random(seed)
        while time.monotonic() < stop_at:
            kind = rng.choices(kinds, weights)[0]
            started = time.perf_counter()
            try:
                ok = expected(kind, client.hit(kind).status_code)
            except requests.RequestException:
                ok = False
            elapsed = (time.perf_counter() - started) * 1000
            with lock:
                samples[kind].append(elapsed)
                errors[kind] += 0 if ok else 1

    threads = [threading.Thread(target=work, args=(c, n)) for n, c in enumerate(clients)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    duration = time.monotonic() - started
    every = [ms for values in samples.values() for ms in values]
    return {
        "clients": len(clients),
        "seconds": round(duration, 1),
        "requests": len(every),
        "requests_per_s": round(len(every) / duration, 1),
        "p50_ms": round(statistics.median(every), 1) if every else None,
        "p95_ms": round(_p95(every), 1) if every else None,
        "errors": sum(errors.values()),
        "pages": {
            kind: {
                "n": len(v),
                "p50_ms": round(statistics.median(v), 1),
                "p95_ms": round(_p95(v), 1),
                "errors": errors[kind],
            }
            for kind, v in samples.items()
            if v
        },
    }


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def cpu_per_request(client: Client, server: psutil.Process, requests_per_page: int) -> dict:
    """Server CPU ms per request, page by page, with one client (nothing else running)."""

    def cpu_seconds() -> float:
        total = 0.0
        for proc in [server, *server.children(recursive=True)]:
            try:
                times = proc.cpu_times()
                total += times.user + times.system
            except psutil.NoSuchProcess:
                continue
        return total

    result = {}
    for kind, _weight in MIX:
        client.hit(kind)
        before = cpu_seconds()
        started = time.perf_counter()
        for _ in range(requests_per_page):
            client.hit(kind)
        wall = (time.perf_counter() - started) * 1000 / requests_per_page
        result[kind] = {
            "cpu_ms": round((cpu_seconds() - before) * 1000 / requests_per_page, 1),
            "wall_ms": round(wall, 1),
        }
    return result


def pick_cases(url: str, collectors: int) -> list[tuple[str, dict]]:
    """For each collector: open cases, one in the visit stage (visit form), one for payments and contacts."""
    from bench.common import configure

    configure(url)
    from collections_app.models import Case, Stage, User

    chosen = []
    for user in User.objects.filter(username__startswith="bench_col").order_by("username"):
        open_ids = list(Case.objects.visible_to(user).open().values_list("id", flat=True)[:50])
        visit = Case.objects.visible_to(user).open().filter(stage=Stage.VISIT).values_list("id", flat=True).first()
        if len(open_ids) < 2 or not visit:
            continue
        chosen.append(
            (user.username, {"open": open_ids, "visit": visit, "payment": open_ids[0], "contact": open_ids[1]})
        )
        if len(chosen) == collectors:
            return chosen
    raise SystemExit(f"only {len(chosen)} collectors with cases in the visit stage; need {collectors}")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(url: str, port: int, workers: str | None) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if k != "PROMETHEUS_MULTIPROC_DIR"}
    env |= BENCH_ENV | {"DATABASE_URL": url, "PORT": str(port), "HOST": "127.0.0.1", "LOG_LEVEL": "WARNING"}
    if workers:
        env["WEB_CONCURRENCY"] = workers
    out = BENCH_ENV["DOORSTEP_VAR_DIR"]
    Path(out).mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v", "0"], cwd=ROOT, env=env, check=True
    )
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", "config/gunicorn.conf.py", "config.wsgi"],
        cwd=ROOT,
        env=env,
        start_new_session=True,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if requests.get(f"http://127.0.0.1:{port}/healthz/", timeout=2).status_code == 200:
                return server
        except requests.RequestException:
            time.sleep(0.5)
    os.killpg(server.pid, signal.SIGKILL)
    raise SystemExit("the server did not start")


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", default="10k")
    parser.add_argument("--clients", default="2,4,8,16")
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--cpu-requests", type=int, default=30)
    parser.add_argument("--workers", default=None, help="WEB_CONCURRENCY (default: gunicorn.conf.py's)")
    parser.add_argument("--label", default="current", help="e.g. before / after a change")
    args = parser.parse_args(argv)
    levels = [int(n) for n in args.clients.split(",")]
    url = database_url(args.scale)
    collectors = pick_cases(url, max(levels))
    port = free_port()
    server = start_server(url, port, args.workers)
    try:
        base = f"http://127.0.0.1:{port}"
        clients = [Client(base, username, cases) for username, cases in collectors]
        for client in clients:
            client.login()
            client.prepare_forms()
        gunicorn = psutil.Process(server.pid)
        workers = len(gunicorn.children())
        cpu = cpu_per_request(clients[0], gunicorn, args.cpu_requests)
        print(f"load: CPU ms per request {json.dumps(cpu)}", flush=True)
        results = []
        for level in levels:
            result = run_level(clients[:level], args.seconds)
            results.append(result)
            print(
                f"load: {level:3d} clients {result['requests_per_s']:6.1f} req/s  p50 {result['p50_ms']:7.1f} ms"
                f"  p95 {result['p95_ms']:7.1f} ms  errors {result['errors']}",
                flush=True,
            )
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
    within = [r for r in results if r["p95_ms"] is not None and r["p95_ms"] <= P95_BUDGET_MS and not r["errors"]]
    summary = {
        "label": args.label,
        "scale": args.scale,
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "server": f"gunicorn, {workers} sync workers, DEBUG off, {os.cpu_count()} cores, loopback",
        "mix": dict(MIX),
        "requests_per_s_at_p95_500ms": max((r["requests_per_s"] for r in within), default=None),
        "levels": results,
        "cpu_ms_per_request": cpu,
    }
    print(f"load: {summary['requests_per_s_at_p95_500ms']} requests/s with p95 ≤ {P95_BUDGET_MS:.0f} ms", flush=True)
    saved = json.loads(RESULTS_PATH.read_text()) if RESULTS_PATH.exists() else {}
    saved.setdefault("load", {})[args.label] = summary
    RESULTS_PATH.write_text(json.dumps(saved, indent=2, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
