"""docker-compose.yml and the Dockerfile, checked offline (no Docker engine needed): the
files parse, every service has its health check and waits for what it needs, and every
command they run is one the project provides."""

from __future__ import annotations

import importlib
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from django.core.management import get_commands

from warroom import container
from warroom.settings import PRODUCTION_REQUIRES

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES = COMPOSE["services"]
OURS = ("migrate", "web", "worker", "beat")
LONG_RUNNING = ("db", "redis", "web", "worker", "beat")


def dockerfile() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) of the final stage, continuation lines joined."""
    text = re.sub(r"\\\n", " ", (ROOT / "Dockerfile").read_text())
    lines = [ln.strip() for ln in text.splitlines() if ln.strip() and not ln.startswith("#")]
    instructions = [tuple(ln.split(None, 1)) for ln in lines]
    last_from = max(i for i, (op, _) in enumerate(instructions) if op.upper() == "FROM")
    return [(op.upper(), args) for op, args in instructions[last_from:]]


def test_the_compose_file_has_the_stack_and_each_service_is_built_from_the_project():
    assert set(SERVICES) == {"db", "redis", "migrate", "web", "worker", "beat"}
    assert SERVICES["db"]["image"].startswith("postgres:")
    assert SERVICES["redis"]["image"].startswith("redis:")
    for name in OURS:
        assert SERVICES[name]["build"] == ".", name
        assert SERVICES[name]["image"] == "warroom:latest", name


def test_every_long_running_service_has_a_health_check():
    for name in LONG_RUNNING:
        check = SERVICES[name]["healthcheck"]
        assert check["test"] and check["interval"] and check["retries"], name
    assert SERVICES["migrate"]["healthcheck"] == {"disable": True}


def test_services_start_in_order_migrations_once_before_web_worker_and_beat():
    healthy = {"condition": "service_healthy"}
    assert SERVICES["migrate"]["depends_on"] == {"db": healthy, "redis": healthy}
    assert SERVICES["migrate"]["command"] == ["migrate"]
    assert SERVICES["migrate"]["restart"] == "no"  # a one-shot
    for name in ("web", "worker", "beat"):
        needs = SERVICES[name]["depends_on"]
        assert needs["db"] == healthy and needs["redis"] == healthy, name
        assert needs["migrate"] == {"condition": "service_completed_successfully"}, name


def test_each_service_command_is_one_the_image_provides():
    for name in OURS:
        command = SERVICES[name]["command"]
        assert command[0] in container.PROCESSES, (name, command)
    for name in ("web", "worker", "beat"):
        test = SERVICES[name]["healthcheck"]["test"]
        assert test[:4] == ["CMD", "python", "-m", "warroom.container"], name
        assert test[4:] == ["healthcheck", name]
        assert name in container.HEALTHCHECKS


def test_the_services_run_in_production_with_every_required_setting_asked_for():
    for name in OURS:
        env = SERVICES[name]["environment"]
        assert env["WARROOM_ENV"] == "production"
        for required in PRODUCTION_REQUIRES:
            assert required in env, (name, required)
        # The secrets have no default: compose stops with a message when they are unset.
        for secret in ("SECRET_KEY", "ALLOWED_HOSTS", "CSRF_TRUSTED_ORIGINS"):
            assert env[secret].startswith(f"${{{secret}:?"), (name, secret)
        assert env["DATABASE_URL"].startswith("postgres://warroom:${POSTGRES_PASSWORD:?")


def test_every_variable_the_compose_file_sets_is_one_warroom_reads():
    read = "".join(
        (ROOT / path).read_text() for path in ("warroom/settings.py", "warroom/container.py")
    )
    for name in OURS:
        for variable in SERVICES[name]["environment"]:
            assert f'"{variable}"' in read, (name, variable)


def test_the_dockerfile_runs_as_a_user_of_its_own_with_a_health_check():
    final = dockerfile()
    users = [args for op, args in final if op == "USER"]
    assert users and users[-1].split(":")[0] not in {"root", "0"}
    ops = [op for op, _ in final]
    assert ops.index("USER") < ops.index("ENTRYPOINT")
    [entrypoint] = [json.loads(args) for op, args in final if op == "ENTRYPOINT"]
    assert entrypoint == ["python", "-m", "warroom.container"]
    [cmd] = [json.loads(args) for op, args in final if op == "CMD"]
    assert cmd == ["web"]
    [health] = [args for op, args in final if op == "HEALTHCHECK"]
    assert health.split("CMD", 1)[1].strip() == json.dumps(
        ["python", "-m", "warroom.container", "healthcheck", "web"]
    )
    env = " ".join(args for op, args in final if op == "ENV")
    assert "WARROOM_ENV=production" in env


def test_everything_the_dockerfile_copies_exists_and_is_not_docker_ignored():
    ignored = {
        ln.strip()
        for ln in (ROOT / ".dockerignore").read_text().splitlines()
        if ln.strip() and not ln.startswith("#")
    }
    text = (ROOT / "Dockerfile").read_text()
    for line in text.splitlines():
        if line.startswith("COPY") and "--from=" not in line:
            sources = [w for w in shlex.split(line)[1:-1] if not w.startswith("--")]
            for source in sources:
                assert (ROOT / source).exists(), source
                assert source not in ignored, source
    for needed in ("warroom", "templates", "static", "manage.py", "pyproject.toml"):
        assert needed not in ignored


def dry_run(*argv: str, **env: str) -> list[str]:
    result = subprocess.run(
        [sys.executable, "-m", "warroom.container", *argv],
        cwd=ROOT,
        env={**os.environ, "WARROOM_CONTAINER_DRY_RUN": "1", **env},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_the_image_commands_become_real_modules_and_management_commands():
    web = dry_run("web", PORT="8123", WEB_CONCURRENCY="3", FORWARDED_ALLOW_IPS="10.0.0.0/8")
    assert web[1:4] == ["-m", "uvicorn", "warroom.asgi:application"]
    assert web[web.index("--port") + 1] == "8123" and web[web.index("--host") + 1] == "0.0.0.0"
    assert web[web.index("--workers") + 1] == "3"
    assert "--proxy-headers" in web and web[web.index("--forwarded-allow-ips") + 1] == "10.0.0.0/8"
    assert "--no-access-log" not in web  # secrets are masked in it (warroom/logs.py)
    assert importlib.util.find_spec("uvicorn") is not None
    assert importlib.import_module("warroom.asgi").application is not None

    worker = dry_run("worker")
    assert worker[1:6] == ["-m", "celery", "-A", "warroom", "worker"]
    assert worker[worker.index("-n") + 1] == container.worker_name()
    assert worker[worker.index("-Q") + 1] == "warroom,warroom.comms"
    beat = dry_run("beat")
    assert beat[1:6] == ["-m", "celery", "-A", "warroom", "beat"]
    from warroom.celery import app

    app.loader.import_default_modules()  # what the worker does at start: find the tasks
    assert "warroom.tasks.tick" in app.tasks

    assert dry_run("migrate")[1:] == [str(ROOT / "manage.py"), "migrate", "--noinput"]
    assert dry_run("manage", "createsuperuser")[2:] == ["createsuperuser"]
    assert {"migrate", "createsuperuser", "axes_reset_username"} <= set(get_commands())


@pytest.mark.parametrize(
    "argv", [[], ["serve"], ["web", "extra"], ["healthcheck"], ["healthcheck", "db"]]
)
def test_an_unknown_image_command_says_what_there_is(argv):
    result = subprocess.run(
        [sys.executable, "-m", "warroom.container", *argv],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "usage: web | worker | beat | migrate" in result.stderr


def has_compose() -> bool:
    if shutil.which("docker") is None:
        return False
    return subprocess.run(["docker", "compose", "version"], capture_output=True).returncode == 0


@pytest.mark.skipif(not has_compose(), reason="no docker compose here: checked offline above")
def test_docker_compose_accepts_the_file():
    env = {
        **os.environ,
        "SECRET_KEY": "x" * 50,
        "ALLOWED_HOSTS": "warroom.example.test",
        "CSRF_TRUSTED_ORIGINS": "https://warroom.example.test",
        "POSTGRES_PASSWORD": "pw",
    }
    result = subprocess.run(
        ["docker", "compose", "config", "--quiet"], cwd=ROOT, env=env, capture_output=True
    )
    assert result.returncode == 0, result.stderr


def test_the_example_env_file_ships_no_usable_secret():
    values = dict(
        line.split("=", 1)
        for line in (ROOT / ".env.example").read_text().splitlines()
        if line and not line.startswith("#")
    )
    # Empty: compose's ${SECRET_KEY:?...} then refuses to start instead of using a known key.
    assert values["SECRET_KEY"] == "" and values["POSTGRES_PASSWORD"] == ""
    assert set(values) <= set(SERVICES["web"]["environment"]) | {
        "POSTGRES_PASSWORD",
        "WARROOM_PORT",
    }


def test_every_integration_has_its_on_off_and_base_url_in_compose_and_the_example_env():
    env = SERVICES["web"]["environment"]
    example = (ROOT / ".env.example").read_text()
    for name in ("SLACK", "STATUSPAGE", "WEBHOOK", "EMAIL", "SLACK_COMMANDS"):
        assert f"{name}_ENABLED" in env and f"{name}_ENABLED=" in example, name
    for url in ("SLACK_BASE_URL", "STATUSPAGE_BASE_URL", "WEBHOOK_URL", "EMAIL_HOST"):
        assert url in env and f"{url}=" in example, url
    assert "SLACK_SIGNING_SECRET" in env and "SLACK_SIGNING_SECRET=\n" in example
    # The worker sends, so it carries the same settings as web.
    assert set(env) == set(SERVICES["worker"]["environment"])
