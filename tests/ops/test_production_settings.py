"""Production settings (DEBUG off): cookies, deploy checks, database connections under runserver."""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _production_settings(extra_env: dict | None = None, argv: str = "") -> dict:
    env = {key: value for key, value in os.environ.items() if key != "DATABASE_URL"}
    env |= {
        "DEBUG": "false",
        "SECRET_KEY": "x" * 50,
        "FIELD_ENCRYPTION_KEY": "y" * 50,
        "ALLOWED_HOSTS": "doorstep.example.com",
        **(extra_env or {}),
    }
    code = (
        f"import sys, json; sys.argv = ['manage.py', {argv!r}];"
        "import config.settings as s;"
        "print(json.dumps({k: getattr(s, k, None) for k in ("
        "'LANGUAGE_COOKIE_SECURE', 'LANGUAGE_COOKIE_HTTPONLY', 'LANGUAGE_COOKIE_SAMESITE',"
        "'SESSION_COOKIE_SECURE', 'CSRF_COOKIE_SECURE', 'SECURE_REDIRECT_EXEMPT')}"
        " | {'conn_max_age': s.DATABASES['default']['CONN_MAX_AGE']}))"
    )
    out = subprocess.run([sys.executable, "-c", code], env=env, cwd=ROOT, capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


def test_the_language_cookie_is_secure_like_the_session_and_csrf_cookies_when_debug_is_off():
    values = _production_settings()
    assert values["LANGUAGE_COOKIE_SECURE"] is True
    assert values["SESSION_COOKIE_SECURE"] is True and values["CSRF_COOKIE_SECURE"] is True
    assert values["LANGUAGE_COOKIE_HTTPONLY"] is True and values["LANGUAGE_COOKIE_SAMESITE"] == "Lax"
    assert r"^healthz/$" in values["SECURE_REDIRECT_EXEMPT"]


def test_the_deploy_checks_pass_with_production_settings():
    # Without what the browser tests set for themselves (DJANGO_ALLOW_ASYNC_UNSAFE), which production lacks.
    env = {
        **{key: value for key, value in os.environ.items() if key != "DJANGO_ALLOW_ASYNC_UNSAFE"},
        "DEBUG": "false",
        "SECRET_KEY": "k" * 20 + "Q7#xV9!mZ2@pL5$wR8^tY3&nB6*cF1(hJ4)",
        "FIELD_ENCRYPTION_KEY": "y" * 50,
        "ALLOWED_HOSTS": "doorstep.example.com",
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_runserver_closes_database_connections_after_each_request():
    url = "postgres://doorstep@127.0.0.1:5432/doorstep"
    assert _production_settings({"DATABASE_URL": url}, argv="runserver")["conn_max_age"] == 0


def test_persistent_connections_elsewhere_and_configurable():
    url = "postgres://doorstep@127.0.0.1:5432/doorstep"
    assert _production_settings({"DATABASE_URL": url})["conn_max_age"] == 60
    assert _production_settings({"DATABASE_URL": url, "DB_CONN_MAX_AGE": "0"})["conn_max_age"] == 0
