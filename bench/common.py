"""Bench settings: which database, which environment, the scales. Read before ``django.setup()``."""

import os
import sys
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse, urlunparse

BENCH_DIR = Path(__file__).resolve().parent
OUT_DIR = BENCH_DIR / "out"
RESULTS_PATH = BENCH_DIR / "results.json"
DEFAULT_SERVER = "postgres://postgres@127.0.0.1:5432"

# Production-like settings (DEBUG off: no query log, manifest static files) with fixed bench-only keys,
# so the generator and the runner encrypt and decrypt with the same key.
BENCH_ENV = {
    "DEBUG": "false",
    "SECRET_KEY": "bench-only-secret-key-never-used-in-production-0123456789",
    "FIELD_ENCRYPTION_KEY": "bench-only-field-encryption-key-never-used-in-production",
    "ALLOWED_HOSTS": "testserver,localhost,127.0.0.1",
    "SECURE_SSL_REDIRECT": "false",
    "SECURE_HSTS_SECONDS": "0",
    "LOG_LEVEL": "WARNING",
    "DOORSTEP_VAR_DIR": str(OUT_DIR / "var"),
}


@dataclass(frozen=True)
class Sizes:
    accounts: int
    cases: int
    visits: int
    plans: int
    payments: int
    due_checks: int
    branches: int = 20
    collectors_per_branch: int = 10
    # Share of borrowers given a (unique, Fernet-encrypted) national ID; the rest have none. Fernet
    # costs ~40 µs a row, which is 40 s of a 1M-row generation for a column no benchmarked page reads.
    national_id_share: float = 0.1


SCALES = {
    "10k": Sizes(accounts=10_000, cases=3_000, visits=10_000, plans=2_000, payments=5_000, due_checks=1_000),
    "100k": Sizes(accounts=100_000, cases=30_000, visits=100_000, plans=20_000, payments=50_000, due_checks=10_000),
    "1m": Sizes(
        accounts=1_000_000, cases=300_000, visits=1_000_000, plans=200_000, payments=500_000, due_checks=100_000
    ),
}


def database_url(scale: str, suffix: str = "") -> str:
    """The bench's own database ``doorstep_bench_<scale><suffix>`` on the server ``$DATABASE_URL`` names
    (default the local PostgreSQL). Refuses anything but PostgreSQL."""
    server = os.environ.get("DATABASE_URL") or DEFAULT_SERVER
    require_postgres(server)
    return urlunparse(urlparse(server)._replace(path=f"/doorstep_bench_{scale}{suffix}"))


def db_name(url: str) -> str:
    return urlparse(url).path.strip("/")


def server_url(url: str, dbname: str = "postgres") -> str:
    return urlunparse(urlparse(url)._replace(path=f"/{dbname}"))


def require_postgres(url: str) -> None:
    if not url.startswith(("postgres://", "postgresql://")):
        sys.exit(f"The bench needs PostgreSQL (got {url.split(':', 1)[0]}); SQLite timings mean nothing here.")


def configure(url: str) -> None:
    """Point Django at the bench database with the bench environment, then set it up."""
    require_postgres(url)
    for name, value in BENCH_ENV.items():
        os.environ[name] = value
    os.environ["DATABASE_URL"] = url
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings"
    (OUT_DIR / "var").mkdir(parents=True, exist_ok=True)
    import django

    django.setup()


def collect_static() -> None:
    """Pages render with DEBUG off, so hashed static names need the manifest: collect once per checkout."""
    from django.conf import settings
    from django.core.management import call_command

    if not (settings.STATIC_ROOT / "staticfiles.json").exists():
        call_command("collectstatic", interactive=False, verbosity=0)
