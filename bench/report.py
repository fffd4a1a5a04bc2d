"""``python -m bench.report [--markdown]``: the table of ``bench/results.json`` against the budgets."""

import argparse
import json

from bench.common import RESULTS_PATH
from bench.run import IMPORT_BUDGET, PAGE_BUDGETS, QUERY_BUDGET, RATIO_BUDGET, SWEEP_BUDGET


def _mark(ok: bool) -> str:
    return "ok" if ok else "MISS"


def rows(results: dict) -> list[list[str]]:
    runs = results.get("runs", {})
    small, large = runs.get("10k"), runs.get("1m")
    table = []
    for scale, run in sorted(runs.items(), key=lambda item: item[1].get("counts", {}).get("accounts", 0)):
        for name, page in run["pages"].items():
            budget = PAGE_BUDGETS.get(name)
            ok = page["p95_ms"] <= budget and page["queries"] <= QUERY_BUDGET if budget else True
            table.append(
                [
                    scale,
                    name,
                    f"{page['p50_ms']:.1f}",
                    f"{page['p95_ms']:.1f}",
                    str(page["queries"]),
                    f"≤ {budget}",
                    _mark(ok),
                ]
            )
        if "sweep" in run:
            s = run["sweep"]
            ok = (s["projected_100k_s"] or 1e9) <= SWEEP_BUDGET[1]
            note = (
                f"{s['processed']}/{s['due']} checks in {s['seconds']} s = {s['per_second']}/s"
                f" → 100k in {s['projected_100k_s']} s"
            )
            table.append([scale, "followup sweep", note, "", "", f"100k ≤ {SWEEP_BUDGET[1]:.0f} s", _mark(ok)])
        if "import" in run:
            i = run["import"]
            ok = i["projected_1m_s"] <= IMPORT_BUDGET[1]
            note = f"{i['rows']} rows in {i['seconds']} s = {i['rows_per_second']}/s → 1M in {i['projected_1m_s']} s"
            table.append([scale, "import", note, "", "", f"1M ≤ {IMPORT_BUDGET[1]:.0f} s", _mark(ok)])
    if small and large:
        for name, page in large["pages"].items():
            base = small["pages"].get(name)
            if base and base["p50_ms"]:
                ratio = page["p50_ms"] / base["p50_ms"]
                same_queries = page["queries"] == base["queries"]
                table.append(
                    ["1m/10k", name, f"ratio {ratio:.2f}", "", "same" if same_queries else "DIFFERENT",
                     f"≤ {RATIO_BUDGET}", _mark(ratio <= RATIO_BUDGET and same_queries)]
                )  # fmt: skip
    return table


HEADER = ["scale", "measure", "p50 ms", "p95 ms", "queries", "budget", ""]


def print_report(results: dict, *, markdown: bool = False) -> None:
    table = rows(results)
    machine = results.get("machine", {})
    where = (
        f"{machine.get('nproc')} cores ({machine.get('cpu', '')}), {machine.get('ram_gb')} GB RAM, "
        f"PostgreSQL {machine.get('postgresql')}, Python {machine.get('python')}, {machine.get('date')}"
    )
    if markdown:
        print(f"Machine: {where}\n")
        print("| " + " | ".join(HEADER) + " |")
        print("|" + "---|" * len(HEADER))
        for row in table:
            print("| " + " | ".join(row) + " |")
        return
    widths = [max(len(str(r[i])) for r in [HEADER, *table]) for i in range(len(HEADER))]
    print(f"\n{where}")
    for row in [HEADER, *table]:
        print("  ".join(str(cell).ljust(width) for cell, width in zip(row, widths, strict=True)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--markdown", action="store_true")
    args = parser.parse_args()
    print_report(json.loads(RESULTS_PATH.read_text()), markdown=args.markdown)


if __name__ == "__main__":
    main()
