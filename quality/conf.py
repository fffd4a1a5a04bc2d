"""Settings of the quality, safety and playbook rules, read when used (never at import)."""

import datetime as dt

from django.conf import settings


def review_rate() -> float:
    return float(getattr(settings, "QUALITY_REVIEW_RATE", 0.10))


def new_collector_review_rate() -> float:
    return float(getattr(settings, "QUALITY_REVIEW_NEW_COLLECTOR_RATE", 0.50))


NEW_COLLECTOR_DAYS = 30


def conduct_review_rate() -> float:
    """After a conduct complaint names the collector: by default the first-30-days rate."""
    return float(getattr(settings, "QUALITY_REVIEW_CONDUCT_RATE", new_collector_review_rate()))


def conduct_window() -> dt.timedelta:
    """How long after a conduct complaint the collector's visits are sampled at the higher rate."""
    return dt.timedelta(days=int(getattr(settings, "QUALITY_CONDUCT_WINDOW_DAYS", 90)))


def sample_seed() -> str:
    return str(getattr(settings, "QUALITY_SAMPLE_SEED", "doorstep"))


def safety_grace() -> dt.timedelta:
    return dt.timedelta(minutes=int(getattr(settings, "SAFETY_GRACE_MINUTES", 15)))


def safety_escalation_grace() -> dt.timedelta:
    return dt.timedelta(minutes=int(getattr(settings, "SAFETY_ESCALATION_MINUTES", 15)))
