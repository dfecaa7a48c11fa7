"""Production settings: `check --deploy` is clean, every deploy setting comes from the
environment, and a production process refuses to start without what it must be told.

Each case runs manage.py in a subprocess with exactly the environment it names, because
settings are read once, when a process starts.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

from django.conf import settings

ROOT = Path(__file__).resolve().parents[2]
DEPLOY_SETTINGS = [
    "SECURE_SSL_REDIRECT",
    "SECURE_HSTS_SECONDS",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS",
    "SECURE_HSTS_PRELOAD",
    "SESSION_COOKIE_SECURE",
    "CSRF_COOKIE_SECURE",
    "SECURE_PROXY_SSL_HEADER",
    "ALLOWED_HOSTS",
    "CSRF_TRUSTED_ORIGINS",
    "DEBUG",
    "SECRET_KEY_FALLBACKS",
]


def base_env(tmp_path: Path) -> dict[str, str]:
    """A clean environment: no variable of the developer's shell leaks into the case."""
    env = {
        "PATH": os.environ["PATH"],
        "HOME": os.environ.get("HOME", "/tmp"),
        "WARROOM_VAR_DIR": str(tmp_path / "var"),
        # Never start an embedded Redis from these processes: use the test run's.
        "REDIS_URL": settings.REDIS_URL,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
    }
    return env


def production_env(tmp_path: Path, **overrides: str) -> dict[str, str]:
    env = {
        **base_env(tmp_path),
        "WARROOM_ENV": "production",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "warroom.example.test",
        "CSRF_TRUSTED_ORIGINS": "https://warroom.example.test",
        "DATABASE_URL": "postgres://warroom:pw@db.example.test:5432/warroom",
    }
    env.update(overrides)
    return {k: v for k, v in env.items() if v is not None}


def manage(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def settings_in(env: dict[str, str], names=DEPLOY_SETTINGS) -> dict:
    code = (
        "import json; from django.conf import settings as s; "
        f"print(json.dumps({{n: getattr(s, n) for n in {list(names)!r}}}))"
    )
    result = manage(env, "shell", "-c", code)
    assert result.returncode == 0, result.stderr
    return json.loads(last_line(result.stdout))


def last_line(out: str) -> str:
    """What the code printed (Django 5.2's shell prints its auto-imports first)."""
    return out.strip().splitlines()[-1]


def test_check_deploy_is_clean_under_production_settings(tmp_path):
    result = manage(production_env(tmp_path), "check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout
    assert "WARNINGS" not in result.stdout + result.stderr


def test_production_turns_on_https_cookies_hsts_and_the_redirect(tmp_path):
    got = settings_in(production_env(tmp_path))
    assert got["SECURE_SSL_REDIRECT"] is True
    assert got["SECURE_HSTS_SECONDS"] >= 31_536_000
    assert got["SECURE_HSTS_INCLUDE_SUBDOMAINS"] is True
    assert got["SESSION_COOKIE_SECURE"] is True and got["CSRF_COOKIE_SECURE"] is True
    assert got["DEBUG"] is False
    assert got["ALLOWED_HOSTS"] == ["warroom.example.test"]


def test_every_deploy_setting_is_read_from_the_environment(tmp_path):
    env = production_env(
        tmp_path,
        SECURE_SSL_REDIRECT="false",
        SECURE_HSTS_SECONDS="600",
        SECURE_HSTS_INCLUDE_SUBDOMAINS="no",
        SECURE_HSTS_PRELOAD="off",
        SESSION_COOKIE_SECURE="0",
        CSRF_COOKIE_SECURE="false",
        SECURE_PROXY_SSL_HEADER="HTTP_X_FORWARDED_PROTO,https",
        ALLOWED_HOSTS="a.example.test, .b.example.test",
        CSRF_TRUSTED_ORIGINS="https://a.example.test,https://*.b.example.test",
        SECRET_KEY_FALLBACKS="old-key-1,old-key-2",
    )
    got = settings_in(env)
    assert got == {
        "SECURE_SSL_REDIRECT": False,
        "SECURE_HSTS_SECONDS": 600,
        "SECURE_HSTS_INCLUDE_SUBDOMAINS": False,
        "SECURE_HSTS_PRELOAD": False,
        "SESSION_COOKIE_SECURE": False,
        "CSRF_COOKIE_SECURE": False,
        "SECURE_PROXY_SSL_HEADER": ["HTTP_X_FORWARDED_PROTO", "https"],
        "ALLOWED_HOSTS": ["a.example.test", ".b.example.test"],
        "CSRF_TRUSTED_ORIGINS": ["https://a.example.test", "https://*.b.example.test"],
        "DEBUG": False,
        "SECRET_KEY_FALLBACKS": ["old-key-1", "old-key-2"],
    }
    # ...and check --deploy then says what the operator turned off.
    result = manage(env, "check", "--deploy")
    for code in ("security.W008", "security.W012", "security.W016", "security.W021"):
        assert code in result.stderr + result.stdout, code


def test_production_without_its_required_settings_refuses_to_start_and_names_them(tmp_path):
    env = production_env(
        tmp_path, SECRET_KEY=None, ALLOWED_HOSTS=None, CSRF_TRUSTED_ORIGINS=None, REDIS_URL=None
    )
    result = manage(env, "check")
    assert result.returncode != 0
    for name in ("SECRET_KEY", "ALLOWED_HOSTS", "CSRF_TRUSTED_ORIGINS", "REDIS_URL"):
        assert name in result.stderr, name
    assert "DATABASE_URL" not in result.stderr  # it was given
    assert "refuses to start" in result.stderr
    assert "Traceback" not in result.stderr  # a message, not a stack
    assert not (tmp_path / "var" / "secret_key").exists()  # no key was made up


def test_a_missing_secret_key_alone_refuses_production(tmp_path):
    result = manage(production_env(tmp_path, SECRET_KEY=""), "check")
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr and "ALLOWED_HOSTS" not in result.stderr


def test_production_refuses_a_wildcard_host(tmp_path):
    result = manage(production_env(tmp_path, ALLOWED_HOSTS="*"), "check")
    assert result.returncode != 0 and "ALLOWED_HOSTS=*" in result.stderr


def test_a_misspelt_yes_no_value_refuses_to_start_rather_than_meaning_no(tmp_path):
    result = manage(production_env(tmp_path, SESSION_COOKIE_SECURE="ture"), "check")
    assert result.returncode != 0
    assert "SESSION_COOKIE_SECURE='ture'" in result.stderr


def test_an_unknown_environment_name_refuses_to_start(tmp_path):
    result = manage({**base_env(tmp_path), "WARROOM_ENV": "prod"}, "check")
    assert result.returncode != 0 and "WARROOM_ENV='prod'" in result.stderr


def test_development_makes_a_secret_key_under_var_once_and_says_so_once(tmp_path):
    env = base_env(tmp_path)
    code = "from django.conf import settings; print(settings.SECRET_KEY)"
    first, second = manage(env, "shell", "-c", code), manage(env, "shell", "-c", code)
    assert first.returncode == 0 and second.returncode == 0, first.stderr + second.stderr
    key_file = tmp_path / "var" / "secret_key"
    key = key_file.read_text().strip()
    assert len(key) >= 50
    assert last_line(first.stdout) == last_line(second.stdout) == key
    assert "generated a development SECRET_KEY" in first.stderr
    assert str(key_file) in first.stderr
    assert "generated" not in second.stderr
    assert oct(key_file.stat().st_mode & 0o777) == "0o600"


def test_processes_starting_together_agree_on_one_key_and_one_says_so(tmp_path):
    env = base_env(tmp_path)
    code = "from django.conf import settings; print(settings.SECRET_KEY)"
    procs = [
        subprocess.Popen(
            [sys.executable, "manage.py", "shell", "-c", code],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(4)
    ]
    outs = [p.communicate(timeout=120) for p in procs]
    keys = {last_line(out) for out, _ in outs}
    assert len(keys) == 1 and keys.pop() == (tmp_path / "var" / "secret_key").read_text().strip()
    assert sum("generated a development SECRET_KEY" in err for _, err in outs) == 1


def test_development_serves_only_local_host_names_unless_told(tmp_path):
    got = settings_in(base_env(tmp_path), ["ALLOWED_HOSTS", "SECURE_SSL_REDIRECT"])
    assert got["ALLOWED_HOSTS"] == ["localhost", "127.0.0.1", "[::1]"]
    assert got["SECURE_SSL_REDIRECT"] is False
    told = settings_in({**base_env(tmp_path), "ALLOWED_HOSTS": "warroom.lan"}, ["ALLOWED_HOSTS"])
    assert told == {"ALLOWED_HOSTS": ["warroom.lan"]}
