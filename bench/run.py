"""``python -m bench.run --scale 10k|100k|1m``: time the pages, the follow-up sweep and an import.

Pages: the in-process Django test ``Client`` (``force_login``) against ``doorstep_bench_<scale>``;
warm-up requests, then one request with a counting ``execute_wrapper`` for the query count (the
debug cursor behind ``CaptureQueriesContext`` saw nothing with DEBUG off here), then N timed
requests (``time.perf_counter``) for p50/p95. The sweep and the import change data, so each runs in a
subprocess on a database of its own: the sweep on a copy of the bench database
(``CREATE DATABASE … TEMPLATE``), the import of a generated file (as many rows as the scale has
accounts, fresh account numbers) into an empty migrated database with the 20 branches.
Results merge into ``bench/results.json``; with both 10k and 1m present the p50 ratio is printed.
"""

import argparse
import datetime as dt
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

from bench.common import OUT_DIR, RESULTS_PATH, SCALES, collect_static, configure, database_url, db_name, server_url

# p95 budgets in ms (README, "Performance"); query budget per page.
PAGE_BUDGETS = {
    "screening": 150,
    "screening_filtered": 150,
    "screening_manager": 150,
    "case_list": 100,
    "case_detail": 100,
    "api_cases": 100,
    "api_cases_manager": 100,
    "dashboard": 300,
}
QUERY_BUDGET = 15
SLOW_PAGE_S, SLOW_PAGE_REQUESTS = 3.0, 5
RATIO_BUDGET = 2.0
SWEEP_BUDGET = (100_000, 60.0)  # checks, seconds
IMPORT_BUDGET = (1_000_000, 180.0)  # rows, seconds


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * (len(ordered) - 1))))]


def busiest_case(collector):
    """The collector's open case with an active plan and the most visits: the fullest case page
    (timeline, visits, schedule), and the same page shape at every scale."""
    from django.db.models import Count

    from collections_app.models import Case

    cases = Case.objects.visible_to(collector).open().filter(plans__status="active")
    return cases.annotate(n=Count("visits", distinct=True)).order_by("-n", "id").first()


def _subjects() -> dict:
    """The users and the case the pages are requested as."""
    from collections_app.models import User

    collector = User.objects.get(username="bench_col01_01")
    case = busiest_case(collector)
    return {
        "supervisor": User.objects.get(username="bench_sup01"),
        "collector": collector,
        "manager": User.objects.get(username="bench_manager"),
        "case": case,
    }


def pages(subjects: dict) -> list[tuple[str, str, object]]:
    from bench.builders import FILTERED_PAGE

    case = subjects["case"]
    low, high = FILTERED_PAGE["dpd"]
    return [
        ("screening", "/screening/", subjects["supervisor"]),
        (
            "screening_filtered",
            f"/screening/?bucket={low}-{high}&product={FILTERED_PAGE['product']}",
            subjects["supervisor"],
        ),
        ("screening_manager", "/screening/", subjects["manager"]),
        ("case_list", "/cases/", subjects["collector"]),
        ("case_detail", f"/cases/{case.pk}/", subjects["collector"]),
        ("dashboard", "/dashboard/", subjects["manager"]),
        ("api_cases", "/api/v1/cases/", subjects["collector"]),
        ("api_cases_manager", "/api/v1/cases/", subjects["manager"]),
    ]


def time_page(path: str, user, *, requests: int, warmup: int) -> dict:
    from django.db import connection
    from django.test import Client

    client = Client()
    client.force_login(user)
    for n in range(warmup):
        started = time.perf_counter()
        response = client.get(path)
        if response.status_code != 200:
            raise RuntimeError(f"{path} as {user.username}: HTTP {response.status_code}")
        if n == 0 and time.perf_counter() - started > SLOW_PAGE_S:
            requests = min(requests, SLOW_PAGE_REQUESTS)  # far over budget: a few requests tell as much
    executed = []
    with connection.execute_wrapper(
        lambda execute, sql, params, many, context: executed.append(sql) or execute(sql, params, many, context)
    ):
        client.get(path)
    seconds = []
    for _ in range(requests):
        started = time.perf_counter()
        client.get(path)
        seconds.append(time.perf_counter() - started)
    ms = [s * 1000 for s in seconds]
    return {
        "path": path,
        "user": user.username,
        "p50_ms": round(statistics.median(ms), 1),
        "p95_ms": round(percentile(ms, 0.95), 1),
        "queries": len(executed),
        "requests": requests,
    }


def machine() -> dict:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        pg = cursor.fetchone()[0]
    meminfo = Path("/proc/meminfo").read_text().splitlines()
    mem_kb = next(int(line.split()[1]) for line in meminfo if line.startswith("MemTotal"))
    cpuinfo = Path("/proc/cpuinfo").read_text().splitlines()
    cpu = next((line.split(":", 1)[1].strip() for line in cpuinfo if "model name" in line), "")
    return {
        "nproc": os.cpu_count(),
        "cpu": cpu,
        "ram_gb": round(mem_kb / 1024 / 1024, 1),
        "postgresql": pg,
        "python": platform.python_version(),
        "date": dt.datetime.now().astimezone().isoformat(timespec="seconds"),
    }


def _run_child(args: list[str], url: str) -> dict:
    """A bench step in a fresh process on another database; its last output line is JSON."""
    env = {**os.environ, "BENCH_CHILD_URL": url}
    done = subprocess.run(
        [sys.executable, "-m", "bench.child", *args], env=env, capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"bench.child {args} failed:\n{done.stdout[-2000:]}\n{done.stderr[-4000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def _admin_sql(url: str, *statements: str) -> None:
    import psycopg2

    conn = psycopg2.connect(server_url(url))
    conn.autocommit = True
    with conn.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)
    conn.close()


def run_sweep(scale: str, url: str, max_seconds: float) -> dict:
    from django.db import connections

    connections.close_all()  # CREATE DATABASE … TEMPLATE needs the template idle
    copy = database_url(scale, "_sweep")
    name, source = db_name(copy), db_name(url)
    started = time.perf_counter()
    _admin_sql(url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)', f'CREATE DATABASE "{name}" TEMPLATE "{source}"')
    copy_seconds = time.perf_counter() - started
    try:
        result = _run_child(["sweep", "--max-seconds", str(max_seconds)], copy)
    finally:
        _admin_sql(url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    result["copy_database_s"] = round(copy_seconds, 1)
    return result


def run_import(scale: str, rows: int, seed: int) -> dict:
    from django.db import connections

    connections.close_all()
    target = database_url(scale, "_import")
    name = db_name(target)
    _admin_sql(target, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)', f'CREATE DATABASE "{name}"')
    try:
        return _run_child(["import", "--rows", str(rows), "--seed", str(seed)], target)
    finally:
        _admin_sql(target, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description="Time Doorstep's pages, sweep and import on a bench database.")
    parser.add_argument("--scale", choices=sorted(SCALES), default="10k")
    parser.add_argument("--requests", type=int, default=30)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--skip-sweep", action="store_true")
    parser.add_argument("--skip-import", action="store_true")
    parser.add_argument("--sweep-max-seconds", type=float, default=240, help="stop the sweep then and extrapolate")
    parser.add_argument(
        "--import-rows", type=int, default=None, help="rows in the import file (default: the scale's accounts)"
    )
    args = parser.parse_args(argv)
    url = database_url(args.scale)
    configure(url)
    collect_static()
    result = {"scale": args.scale, "database": db_name(url), "machine": machine(), "pages": {}}
    generated = OUT_DIR / f"generate-{args.scale}.json"
    if generated.exists():
        info = json.loads(generated.read_text())
        result.update(counts=info["counts"], generate_s=info["seconds"])
    subjects = _subjects()
    # What the beat keeps current in a running install (every 5 minutes, hourly): without it the
    # dashboard would find its state tally older than DASHBOARD_STATE_MAX_AGE_SECONDS and compute live.
    from dashboard.tallies import day_tally_roll, state_tally_refresh

    day_tally_roll()
    state_tally_refresh()
    for name, path, user in pages(subjects):
        result["pages"][name] = time_page(path, user, requests=args.requests, warmup=args.warmup)
        page = result["pages"][name]
        print(
            f"  {name:20} p50 {page['p50_ms']:8.1f} ms  p95 {page['p95_ms']:8.1f} ms  {page['queries']:3d} queries",
            flush=True,
        )
    if not args.skip_sweep:
        result["sweep"] = run_sweep(args.scale, url, args.sweep_max_seconds)
        print(f"  sweep: {json.dumps(result['sweep'])}", flush=True)
    if not args.skip_import:
        result["import"] = run_import(args.scale, args.import_rows or SCALES[args.scale].accounts, args.seed)
        print(f"  import: {json.dumps(result['import'])}", flush=True)
    save(result)
    from bench.report import print_report

    print_report(json.loads(RESULTS_PATH.read_text()))


def save(result: dict) -> None:
    results = json.loads(RESULTS_PATH.read_text()) if RESULTS_PATH.exists() else {}
    previous = results.setdefault("runs", {}).get(result["scale"], {})
    for step in ("sweep", "import"):  # a run with --skip-sweep/--skip-import keeps the last measure
        if step not in result and step in previous:
            result[step] = previous[step]
    results["runs"][result["scale"]] = result
    results["machine"] = result["machine"]
    RESULTS_PATH.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
