import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from config.env import database_config, env_bool, env_decimal_str, env_int, env_list, env_timezone, redis_url

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("raw,expected", [("true", True), ("1", True), ("YES", True), ("off", False), ("0", False)])
def test_env_bool_reads_common_spellings(raw, expected):
    assert env_bool("X", environ={"X": raw}) is expected


def test_env_bool_refuses_a_typo():
    with pytest.raises(ImproperlyConfigured, match="X='ture' is not a boolean"):
        env_bool("X", environ={"X": "ture"})


def test_env_int_refuses_words_and_values_below_minimum():
    with pytest.raises(ImproperlyConfigured, match="not a whole number"):
        env_int("N", 5, environ={"N": "five"})
    with pytest.raises(ImproperlyConfigured, match="at least 60"):
        env_int("N", 5, minimum=60, environ={"N": "10"})
    assert env_int("N", 5, environ={}) == 5


def test_env_decimal_refuses_negative_and_non_numbers():
    with pytest.raises(ImproperlyConfigured):
        env_decimal_str("W", "1", environ={"W": "-1"})
    with pytest.raises(ImproperlyConfigured):
        env_decimal_str("W", "1", environ={"W": "abc"})
    assert env_decimal_str("W", "1", environ={"W": "2.5"}) == "2.5"


def test_env_list_and_timezone():
    assert env_list("H", ["a"], environ={"H": "a.com, b.com,,"}) == ["a.com", "b.com"]
    assert env_timezone("TZ", "Asia/Shanghai", environ={}) == "Asia/Shanghai"
    with pytest.raises(ImproperlyConfigured, match="not a known time zone"):
        env_timezone("TZ", "Asia/Shanghai", environ={"TZ": "Mars/Olympus"})


def test_database_url_unset_means_sqlite_and_bad_scheme_fails():
    assert database_config("", sqlite_path="var/x.sqlite3")["ENGINE"] == "django.db.backends.sqlite3"
    pg = database_config("postgres://postgres@127.0.0.1:5432/doorstep", sqlite_path="x")
    assert pg["ENGINE"] == "django.db.backends.postgresql" and pg["NAME"] == "doorstep"
    with pytest.raises(ImproperlyConfigured):
        database_config("nosuchdb://host/db", sqlite_path="x")


def test_redis_url_must_be_a_redis_url():
    assert redis_url("") is None
    assert redis_url("redis://127.0.0.1:6379/0") == "redis://127.0.0.1:6379/0"
    with pytest.raises(ImproperlyConfigured):
        redis_url("http://127.0.0.1:6379")


def _load_settings(**env) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if k not in {"DEBUG", "SECRET_KEY", "FIELD_ENCRYPTION_KEY"}}
    clean.update(env)
    code = "import django, os; os.environ['DJANGO_SETTINGS_MODULE']='config.settings'; django.setup()"
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=clean, capture_output=True, text=True, timeout=60)


def test_production_without_secret_key_refuses_to_start():
    result = _load_settings(DEBUG="false")
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_production_without_encryption_key_refuses_to_start():
    result = _load_settings(DEBUG="false", SECRET_KEY="x" * 50)
    assert result.returncode != 0
    assert "FIELD_ENCRYPTION_KEY must be set" in result.stderr


def test_production_with_keys_starts():
    result = _load_settings(DEBUG="false", SECRET_KEY="x" * 50, FIELD_ENCRYPTION_KEY="y" * 40)
    assert result.returncode == 0, result.stderr


def test_bad_debug_value_stops_start_up():
    result = _load_settings(DEBUG="maybe")
    assert result.returncode != 0
    assert "DEBUG='maybe' is not a boolean" in result.stderr
