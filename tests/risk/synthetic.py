"""Synthetic statement histories with a planted signal, for the risk model's tests and the bench."""

import datetime as dt

import numpy as np

from risk.features import History


def month_end_days(first_year: int, first_month: int, count: int) -> list[int]:
    days, year, month = [], first_year, first_month
    for _i in range(count):
        nxt = dt.date(year + (month == 12), month % 12 + 1, 1)
        days.append((nxt - dt.timedelta(days=1)).toordinal())
        year, month = nxt.year, nxt.month
    return days


def planted_history(accounts: int, months: int, seed: int = 0, first_id: int = 1) -> tuple[History, dict]:
    """Each account has a hidden propensity to miss a payment; a missed month adds 30 DPD, a paid one cures.

    The propensity shows in the payment history (pay ratios, months overdue), so a model reading those
    finds the signal; nothing else about the account carries it."""
    rng = np.random.default_rng(seed)
    # Most accounts rarely miss a payment; a minority often does.
    propensity = np.where(
        rng.random(accounts) < 0.25, rng.uniform(0.3, 0.8, accounts), rng.uniform(0.0, 0.08, accounts)
    )
    days = month_end_days(2025, 1, months)
    account = np.repeat(np.arange(first_id, first_id + accounts, dtype=np.int64), months)
    day = np.tile(np.array(days, dtype=np.int64), accounts)
    balance = np.empty(accounts * months)
    due = np.empty(accounts * months)
    paid = np.empty(accounts * months)
    dpd = np.empty(accounts * months)
    for a in range(accounts):
        level, bal = 0.0, 5000 + 20000 * rng.random()
        for m in range(months):
            i = a * months + m
            owed = round(bal * 0.05, 2)
            miss = rng.random() < propensity[a]
            pay = 0.0 if miss else owed
            level = level + 30 if miss else 0.0
            bal = bal - pay + bal * 0.01
            balance[i], due[i], paid[i], dpd[i] = round(bal, 2), owed, round(pay, 2), level
    facts = {int(a): (25000.0, "personal_consumer") for a in range(first_id, first_id + accounts)}
    return History(account, day, balance, due, paid, dpd), facts
