"""docker-compose.yml: valid against the Compose Specification, and what the schema cannot
check (Docker cannot run here): the services the code expects, healthchecks, start-up
order, secrets without defaults, environment names that Settings really reads."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from pydantic import AliasChoices

from loket import search_attributes
from loket.settings import Settings

REPO_ROOT = Path(__file__).resolve().parents[1]
COMPOSE_FILE = REPO_ROOT / "docker-compose.yml"
COMPOSE_SCHEMA = Path(__file__).resolve().parents[2] / "shared" / "schemas" / "compose-spec.json"

EXPECTED_SERVICES = {"postgresql", "temporal", "temporal-ui", "worker", "api"}
ONE_SHOT = {"temporal-search-attributes"}
APP_SERVICES = {"worker", "api"}
SECRET_SUFFIXES = ("PASSWORD", "PWD", "SECRET", "SECRET_KEY", "TOKEN", "PRIVATE_KEY")
# ${NAME}, ${NAME:-default}, ${NAME-default}, ${NAME:?error}, ${NAME?error}; `$$` escapes.
INTERPOLATION = re.compile(r"(?<!\$)\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?P<op>:?[-?+])?")


@pytest.fixture(scope="module")
def raw() -> str:
    return COMPOSE_FILE.read_text()


@pytest.fixture(scope="module")
def compose(raw: str) -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(raw)
    return loaded


@pytest.fixture(scope="module")
def services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = compose["services"]
    return found


def test_valid_against_the_compose_specification(compose: dict[str, Any]) -> None:
    schema = json.loads(COMPOSE_SCHEMA.read_text())
    jsonschema.validate(compose, schema, cls=jsonschema.Draft7Validator)


def test_every_expected_service_is_there(services: dict[str, dict[str, Any]]) -> None:
    assert set(services) >= EXPECTED_SERVICES
    assert set(services) - EXPECTED_SERVICES <= ONE_SHOT


def test_long_running_services_have_healthchecks(services: dict[str, dict[str, Any]]) -> None:
    for name, service in services.items():
        if name in ONE_SHOT:
            assert service.get("restart") == "no", name
            continue
        check = service.get("healthcheck")
        assert check and check.get("test") and not check.get("disable"), name
        assert service.get("restart") == "unless-stopped", name


def test_dependencies_wait_for_health(services: dict[str, dict[str, Any]]) -> None:
    for name, service in services.items():
        depends_on = service.get("depends_on", {})
        assert isinstance(depends_on, dict), f"{name}: depends_on needs conditions"
        for dependency, spec in depends_on.items():
            assert dependency in services, f"{name} depends on unknown {dependency}"
            wanted = (
                "service_completed_successfully" if dependency in ONE_SHOT else "service_healthy"
            )
            assert spec.get("condition") == wanted, f"{name} -> {dependency}"
    assert set(services["temporal"]["depends_on"]) == {"postgresql"}
    for name in APP_SERVICES:
        assert {"postgresql", "temporal"} <= set(services[name]["depends_on"]), name
    assert "temporal-search-attributes" in services["worker"]["depends_on"]


def test_temporal_persists_in_the_postgresql_service(services: dict[str, dict[str, Any]]) -> None:
    env = services["temporal"]["environment"]
    assert env["DB"] == "postgres12"
    assert env["POSTGRES_SEEDS"] == "postgresql"
    assert env["POSTGRES_PWD"] == services["postgresql"]["environment"]["POSTGRES_PASSWORD"]


def test_postgresql_keeps_its_data_in_a_volume(compose: dict[str, Any]) -> None:
    volumes = compose["services"]["postgresql"]["volumes"]
    assert any(v.endswith(":/var/lib/postgresql/data") for v in volumes)
    assert volumes[0].split(":")[0] in compose["volumes"]


def test_app_services_use_the_project_image(services: dict[str, dict[str, Any]]) -> None:
    for name in APP_SERVICES:
        assert services[name]["build"] == ".", name
    assert (REPO_ROOT / "Dockerfile").is_file()
    assert "replicas" in services["worker"]["deploy"]
    assert "/healthz" in " ".join(services["api"]["healthcheck"]["test"])


def _is_secret(name: str) -> bool:
    return name.upper().endswith(SECRET_SUFFIXES)


def test_secrets_have_no_defaults(raw: str, services: dict[str, dict[str, Any]]) -> None:
    secrets = set()
    for match in INTERPOLATION.finditer(raw):
        name, op = match["name"], match["op"] or ""
        if _is_secret(name):
            secrets.add(name)
            assert op in (":?", "?"), f"${{{name}}} must be required (${{{name}:?...}})"
    assert {"POSTGRES_PASSWORD", "LOKET_SECRET_KEY"} <= secrets
    # No secret written into the file either: secret variables only take required values.
    for service_name, service in services.items():
        for key, value in (service.get("environment") or {}).items():
            if _is_secret(key):
                assert re.fullmatch(r"\$\{\w+:\?[^}]*\}", str(value)), f"{service_name}: {key}"
        database_url = (service.get("environment") or {}).get("DATABASE_URL")
        if database_url:
            assert "${POSTGRES_PASSWORD:?" in database_url, service_name


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
        assert isinstance(env, dict), name
        for key in env:
            if key.startswith("LOKET_") or key == "DATABASE_URL":
                assert key in known, f"{name}: {key} is not a field of loket.settings.Settings"
        assert env["LOKET_ENV"] == "production"
        assert env["DATABASE_URL"].startswith("postgresql://")
        assert "@postgresql:5432/" in env["DATABASE_URL"]
        assert env["LOKET_TEMPORAL_ADDRESS"] == "temporal:7233"


def test_search_attribute_setup_registers_every_attribute(
    services: dict[str, dict[str, Any]],
) -> None:
    script = " ".join(services["temporal-search-attributes"]["command"])
    pairs = dict(re.findall(r"\b(Loket\w+)=(\w+)", script))
    assert pairs == dict(search_attributes.CLI_TYPES)
