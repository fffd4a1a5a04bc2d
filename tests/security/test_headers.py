"""Response headers: a CSP without inline scripts, no-store for signed-in pages, deploy checks."""

import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]


def _directives(header: str) -> dict[str, list[str]]:
    parts = (p.strip().split() for p in header.split(";") if p.strip())
    return {p[0]: p[1:] for p in parts}


def test_csp_allows_scripts_only_from_our_own_files(client, cast):
    client.force_login(cast.collector_a)
    policy = _directives(client.get(reverse("home"))["Content-Security-Policy"])
    assert policy["script-src"] == ["'self'"]
    assert policy["default-src"] == ["'self'"]
    assert policy["object-src"] == ["'none'"] and policy["frame-ancestors"] == ["'none'"]
    assert not any("unsafe" in source for source in policy["script-src"] + policy["default-src"])


def test_login_page_has_the_csp_too(client):
    assert "script-src 'self'" in client.get(reverse("login"))["Content-Security-Policy"]


@pytest.mark.parametrize("url_name", ["home", "login", "audit-log"])
def test_pages_carry_no_inline_script_or_event_handler(client, cast, url_name):
    if url_name != "login":
        client.force_login(cast.manager)
    html = client.get(reverse(url_name)).content.decode()
    scripts = re.findall(r"<script\b([^>]*)>", html)
    assert scripts and all("src=" in attrs or 'type="application/json"' in attrs for attrs in scripts)
    assert not re.search(r"\son[a-z]+\s*=", html)


def test_signed_in_pages_are_not_stored(client, cast):
    client.force_login(cast.collector_a)
    cache_control = client.get(reverse("home"))["Cache-Control"]
    assert "no-store" in cache_control and "private" in cache_control


def test_static_files_stay_cacheable_for_signed_in_users(client, cast, settings):
    settings.WHITENOISE_USE_FINDERS = True  # serve static/ as in development
    settings.WHITENOISE_AUTOREFRESH = True
    client.force_login(cast.collector_a)
    response = client.get("/static/js/drafts.js")
    assert response.status_code == 200
    assert "no-store" not in response.get("Cache-Control", "")


def test_production_settings_pass_the_deploy_checks():
    # The browser tests set DJANGO_ALLOW_ASYNC_UNSAFE in this process; production never has it.
    dropped = {"DEBUG", "DATABASE_URL", "REDIS_URL", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    env = {k: v for k, v in os.environ.items() if k not in dropped}
    env.update(
        DEBUG="false",
        SECRET_KEY=secrets.token_urlsafe(48),
        FIELD_ENCRYPTION_KEY=secrets.token_urlsafe(48),
        ALLOWED_HOSTS="doorstep.example.com",
    )
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
