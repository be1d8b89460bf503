"""docker-compose.yml and the README cannot run here (no Docker), so they are checked by reading."""

import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]


def _compose():
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_compose_has_the_five_services_built_from_the_dockerfile():
    services = _compose()["services"]
    assert set(services) == {"web", "worker", "beat", "db", "redis"}
    assert services["db"]["image"] == "postgres:16"
    assert services["redis"]["image"] == "redis:7"
    for name in ("web", "worker", "beat"):
        assert services[name]["build"] == "."
        env = services[name]["environment"]
        assert env["DEBUG"] == "0"
        assert env["DATABASE_URL"].startswith("postgres://") and "@db:5432/" in env["DATABASE_URL"]
        assert env["REDIS_URL"] == "redis://redis:6379/0"
        # Web and worker share the model artifacts.
        assert "artifacts:/artifacts" in services[name]["volumes"] and env["MODEL_ARTIFACT_DIR"] == "/artifacts"
        assert services[name]["depends_on"]["db"]["condition"] == "service_healthy"
    web_command = services["web"]["command"]
    assert web_command.index("migrate") < web_command.index("collectstatic") < web_command.index("gunicorn")
    assert services["worker"]["command"].startswith("celery -A nplsite worker")
    assert services["beat"]["command"].startswith("celery -A nplsite beat")
    assert "healthcheck" in services["db"] and "healthcheck" in services["redis"]
    assert (ROOT / "Dockerfile").is_file()


def test_the_worker_scales_with_docker_compose_up_scale_sharing_only_the_database_and_the_broker():
    """`docker compose up --scale worker=4` (README, docs/scaling.md): copies of the worker must not
    clash (no fixed container name, no published host port) and must not need the web server's disk
    (batch uploads, chunks and results are in PostgreSQL; the uploads volume is the web's cache)."""
    services = _compose()["services"]
    worker, web = services["worker"], services["web"]
    assert "container_name" not in worker and "ports" not in worker and "hostname" not in worker
    assert "BATCH_UPLOAD_DIR" not in worker["environment"]
    assert not [volume for volume in worker["volumes"] if volume.split(":")[0] == "uploads"]
    assert worker["environment"]["DATABASE_URL"] == web["environment"]["DATABASE_URL"]
    assert worker["environment"]["REDIS_URL"] == web["environment"]["REDIS_URL"]
    assert {"db", "redis"} <= set(worker["depends_on"])
    # The web server keeps its results cache on its own volume.
    assert web["environment"]["BATCH_UPLOAD_DIR"] == "/uploads" and "uploads:/uploads" in web["volumes"]
    assert "--scale worker=" in (ROOT / "README.md").read_text()
    assert "--scale worker=" in (ROOT / "docs" / "scaling.md").read_text()


def test_every_setting_read_from_the_environment_is_documented():
    settings_source = (ROOT / "nplsite" / "settings.py").read_text()
    names = set(
        re.findall(r"""(?:env_bool|env_int|env_list|os\.environ\.get)\(\s*["']([A-Z_]+)["']""", settings_source)
    )
    assert {"DATABASE_URL", "REDIS_URL", "SECRET_KEY", "DEBUG", "MODEL_ARTIFACT_DIR"} <= names
    readme = (ROOT / "README.md").read_text()
    missing = sorted(name for name in names if f"`{name}`" not in readme)
    assert not missing, f"settings read these variables but the README's table does not list them: {missing}"


def test_readme_opens_with_the_two_commands_and_ci_calls_the_test_command():
    first_screen = "\n".join((ROOT / "README.md").read_text().splitlines()[:40])
    assert "make run" in first_screen and "make test" in first_screen
    ci = (ROOT / ".ci" / "run").read_text()
    assert "make test" in ci and "DATABASE_URL" in ci and "REDIS_URL" in ci


def test_the_image_alone_runs_in_production_mode_with_its_static_files():
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert re.search(r"^ENV DEBUG=0$", dockerfile, re.MULTILINE)
    assert dockerfile.index("collectstatic --noinput") < dockerfile.index("CMD [")


def test_make_run_appends_to_the_worker_log_and_asks_for_demo_users_before_demo_data():
    script = (ROOT / "scripts" / "run.sh").read_text()
    worker_line = next(line for line in script.splitlines() if "celery -A nplsite worker" in line)
    assert '>>"$LOG_DIR/worker.log"' in worker_line
    assert script.index("create_demo_users") < script.index("seed_demo")


DEVELOPMENT_TOOLS = {"pytest", "pytest-django", "ruff", "schemathesis", "playwright", "hypothesis", "pip-tools"}


def _normalized(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _requirement_names(path: Path) -> set[str]:
    """The package names a requirements file lists (comments, options and extras aside)."""
    names = set()
    for line in path.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line and not line.startswith("-"):
            names.add(_normalized(re.match(r"[A-Za-z0-9][A-Za-z0-9._-]*", line).group()))
    return names


def _pins(path: Path) -> dict[str, str]:
    pins = {}
    for line in path.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            name, separator, version = line.partition("==")
            assert separator and version, f"{path.name}: not pinned: {line}"
            pins[_normalized(name)] = version
    return pins


def test_the_runtime_lock_pins_every_direct_dependency_and_carries_no_development_tool():
    runtime, development = _pins(ROOT / "requirements.txt"), _pins(ROOT / "requirements-dev.txt")

    assert _requirement_names(ROOT / "requirements.in") <= set(runtime)
    assert _requirement_names(ROOT / "requirements-dev.in") <= set(runtime) | set(development)
    assert not DEVELOPMENT_TOOLS & set(runtime)
    # The development set is resolved against the runtime one: a package in both has one version.
    assert {name: runtime[name] for name in set(runtime) & set(development)} == {
        name: development[name] for name in set(runtime) & set(development)
    }


def test_the_image_installs_the_runtime_lock_only():
    dockerfile = (ROOT / "Dockerfile").read_text()
    installs = re.findall(r"pip install .*", dockerfile)
    assert installs == ["pip install -r requirements.txt"]
