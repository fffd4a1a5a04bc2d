"""``python -m bench.risk --accounts 100000 --months 12``: time statement import, training and scoring.

On a fresh database of its own (``doorstep_bench_risk``, dropped afterwards unless ``--keep``): migrate,
generate the accounts and their statements with a planted signal (``bench.risk_data``), then run
``import_statements``, ``risk_train`` and ``risk_score`` each in a process of its own, and record per
step the wall time, the process's CPU time and its peak memory (``wait4``). The machine is shared, so
the wall times carry the load average recorded beside them. Results go to ``bench/results.json`` under
``"risk"``, keyed by the size.
"""

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from bench.common import BENCH_ENV, OUT_DIR, RESULTS_PATH, database_url, db_name

ROOT = Path(__file__).resolve().parent.parent
# The budgets at 1 M accounts x 12 months (seconds).
BUDGETS = {"import_statements": 300, "risk_train": 600, "risk_score": 120}


def _admin(url: str, *statements: str) -> None:
    import psycopg2

    conn = psycopg2.connect(url.rsplit("/", 1)[0] + "/postgres")
    conn.autocommit = True
    with conn.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)
    conn.close()


def _timed(args: list[str], env: dict) -> dict:
    """Run one step; its wall time, CPU time and peak resident memory, and the load it ran under."""
    started = time.perf_counter()
    process = subprocess.Popen(args, cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True)
    output = process.stdout.read()
    _pid, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - started
    print(output.strip(), flush=True)
    return {
        "ok": os.waitstatus_to_exitcode(status) == 0,
        "wall_s": round(wall, 1),
        "cpu_s": round(usage.ru_utime + usage.ru_stime, 1),
        "peak_rss_mb": round(usage.ru_maxrss / 1024),
        "load_average": round(os.getloadavg()[0], 1),
    }


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--accounts", type=int, default=100_000)
    parser.add_argument("--months", type=int, default=12)
    parser.add_argument("--keep", action="store_true", help="keep the database for a look afterwards")
    args = parser.parse_args(argv)
    url = database_url("risk")
    name = db_name(url)
    env = {**os.environ, **BENCH_ENV, "DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": "config.settings"}
    (OUT_DIR / "var").mkdir(parents=True, exist_ok=True)
    csv_path = OUT_DIR / f"risk-statements-{args.accounts}x{args.months}.csv"
    python = sys.executable
    _admin(url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)', f'CREATE DATABASE "{name}"')
    steps = {}
    try:
        subprocess.run([python, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT, env=env, check=True)
        generate = [python, "-m", "bench.risk_data", "--accounts", str(args.accounts), "--months", str(args.months)]
        steps["generate"] = _timed([*generate, "--out", str(csv_path)], env)
        manage = [python, "manage.py"]
        steps["import_statements"] = _timed([*manage, "import_statements", str(csv_path), "--as-of", "2030-01-01"], env)
        steps["risk_train"] = _timed([*manage, "risk_train", "--seed", "0"], env)
        steps["risk_score"] = _timed([*manage, "risk_score"], env)
    finally:
        csv_path.unlink(missing_ok=True)
        if not args.keep:
            _admin(url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    size = f"{args.accounts}x{args.months}"
    result = {"accounts": args.accounts, "months": args.months, "rows": args.accounts * args.months, "steps": steps}
    results = json.loads(RESULTS_PATH.read_text()) if RESULTS_PATH.exists() else {}
    results.setdefault("risk", {})[size] = result
    RESULTS_PATH.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")
    for step, figures in steps.items():
        budget = BUDGETS.get(step)
        note = f" (budget at 1 M accounts: {budget} s)" if budget else ""
        print(
            f"  {step:18} {figures['wall_s']:8.1f} s wall  {figures['cpu_s']:8.1f} s CPU  "
            f"{figures['peak_rss_mb']:6d} MB peak  load {figures['load_average']}{note}"
        )


if __name__ == "__main__":
    main()
