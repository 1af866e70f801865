"""deploy/kubernetes: both kustomizations render, validate against the API schemas, and hold what
a reviewer checks by hand (non-root, probes, resources, no secret, no /metrics outside).

Needs `kubectl` (with its built-in kustomize); no cluster is contacted.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import PurePosixPath
from typing import Any

import kubernetes_validate
import pytest
import yaml

from tests.deploy.support import (
    APP_UID,
    DEPLOY,
    entente_command,
    option,
    run,
    settings_from,
    unknown_variables,
)

KUSTOMIZATIONS = {
    "base": DEPLOY / "kubernetes" / "base",
    "production": DEPLOY / "kubernetes" / "overlays" / "production",
}
KUBECTL = shutil.which("kubectl")
pytestmark = pytest.mark.skipif(KUBECTL is None, reason="kubectl (with kustomize) is not installed")

Doc = dict[str, Any]


def kustomize(name: str) -> list[Doc]:
    result = run([str(KUBECTL), "kustomize", str(KUSTOMIZATIONS[name])])
    assert result.returncode == 0, result.stderr
    return [doc for doc in yaml.safe_load_all(result.stdout) if doc]


@pytest.fixture(scope="module")
def rendered() -> dict[str, list[Doc]]:
    return {name: kustomize(name) for name in KUSTOMIZATIONS}


@pytest.fixture(scope="module", params=list(KUSTOMIZATIONS))
def docs(request: pytest.FixtureRequest, rendered: dict[str, list[Doc]]) -> list[Doc]:
    return rendered[request.param]


@pytest.fixture(scope="module")
def kubernetes_version() -> str:
    """kubectl's minor version, whose API schemas the manifests must meet."""
    result = run([str(KUBECTL), "version", "--client", "--output=json"])
    client = json.loads(result.stdout)["clientVersion"]
    return f"{client['major']}.{client['minor'].rstrip('+')}"


def one(docs: list[Doc], kind: str, name: str) -> Doc:
    found = [doc for doc in docs if doc["kind"] == kind and doc["metadata"]["name"] == name]
    assert len(found) == 1, f"{kind}/{name}: {len(found)} found"
    return found[0]


def pod_templates(docs: list[Doc]) -> Iterator[tuple[str, Doc]]:
    for doc in docs:
        if doc["kind"] in {"Deployment", "StatefulSet", "DaemonSet", "Job"}:
            yield f"{doc['kind']}/{doc['metadata']['name']}", doc["spec"]["template"]


def containers(pod: Doc) -> list[Doc]:
    return [*pod["spec"].get("initContainers", []), *pod["spec"]["containers"]]


def environment(docs: list[Doc], container: Doc) -> dict[str, str]:
    """The container's variables with their values: ConfigMaps resolved, Secrets as "<secret>"."""
    values: dict[str, str] = {}
    for source in container.get("envFrom", []):
        values |= one(docs, "ConfigMap", source["configMapRef"]["name"]).get("data", {})
    for variable in container.get("env", []):
        values[variable["name"]] = variable.get("value", "<secret>")
    return values


def api(docs: list[Doc]) -> Doc:
    return one(docs, "Deployment", "entente-api")


def worker(docs: list[Doc]) -> Doc:
    return one(docs, "Deployment", "entente-worker")


def mount_of(pod: Doc, container: Doc, path: str) -> tuple[Doc, str]:
    """The volume that ``path`` lies in, and the path inside that volume."""
    for mount in container.get("volumeMounts", []):
        if PurePosixPath(path).is_relative_to(mount["mountPath"]):
            volume = next(v for v in pod["spec"]["volumes"] if v["name"] == mount["name"])
            return volume, str(PurePosixPath(path).relative_to(mount["mountPath"]))
    raise AssertionError(f"{path} is on no volume of {container['name']}")


# -- schemas -------------------------------------------------------------------------------------


def test_every_document_meets_the_api_schema(docs: list[Doc], kubernetes_version: str) -> None:
    for doc in docs:
        where = f"{doc['kind']}/{doc['metadata']['name']}"
        try:
            kubernetes_validate.validate(doc, kubernetes_version, strict=True)
        except kubernetes_validate.ValidationError as exc:
            pytest.fail(f"{where}: {'.'.join(map(str, exc.path))}: {exc.message}")
        except kubernetes_validate.SchemaNotFoundError as exc:
            pytest.fail(f"{where}: {exc.message}")


def test_the_validation_is_strict(rendered: dict[str, list[Doc]], kubernetes_version: str) -> None:
    broken = json.loads(json.dumps(api(rendered["base"])))
    broken["spec"]["template"]["spec"]["containers"][0]["readOnlyRootFilesytem"] = True
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, kubernetes_version, strict=True)


def test_what_the_base_holds(rendered: dict[str, list[Doc]]) -> None:
    kinds = sorted({doc["kind"] for doc in rendered["base"]})
    assert kinds == [
        "ConfigMap",
        "Deployment",
        "HorizontalPodAutoscaler",
        "Ingress",
        "Job",
        "Namespace",
        "NetworkPolicy",
        "PodDisruptionBudget",
        "Service",
        "ServiceAccount",
    ]
    assert {doc["metadata"].get("namespace", "entente") for doc in rendered["base"]} == {"entente"}


# -- pods ----------------------------------------------------------------------------------------


def test_every_container_is_locked_down(docs: list[Doc]) -> None:
    for where, pod in pod_templates(docs):
        spec = pod["spec"]
        pod_security = spec.get("securityContext", {})
        assert spec.get("automountServiceAccountToken") is False, where
        assert spec.get("enableServiceLinks") is False, f"{where}: ENTENTE_API_* service links"
        for container in containers(pod):
            security = {**pod_security, **container.get("securityContext", {})}
            label = f"{where}/{container['name']}"
            assert security.get("runAsNonRoot") is True, label
            assert security.get("runAsUser") == APP_UID, label
            assert security.get("readOnlyRootFilesystem") is True, label
            assert security.get("allowPrivilegeEscalation") is False, label
            assert security.get("privileged", False) is False, label
            assert security.get("capabilities", {}).get("drop") == ["ALL"], label
            assert security.get("seccompProfile", {}).get("type") == "RuntimeDefault", label


def test_every_container_has_resources(docs: list[Doc]) -> None:
    for where, pod in pod_templates(docs):
        for container in containers(pod):
            resources = container.get("resources", {})
            assert {"cpu", "memory"} <= set(resources.get("requests", {})), where
            assert {"cpu", "memory"} <= set(resources.get("limits", {})), where


def test_every_container_runs_a_real_entente_command(docs: list[Doc]) -> None:
    ran = {}
    for where, pod in pod_templates(docs):
        for container in containers(pod):
            assert "command" not in container, f"{where}: keep the image's ENTRYPOINT (entente)"
            ran[where] = entente_command(container["args"])
    assert ran == {
        "Deployment/entente-api": "serve",
        "Deployment/entente-worker": "worker",
        "Job/entente-migrate": "db upgrade",
    }


def test_every_variable_is_a_setting(docs: list[Doc], monkeypatch: pytest.MonkeyPatch) -> None:
    for where, pod in pod_templates(docs):
        for container in containers(pod):
            variables = environment(docs, container)
            assert unknown_variables(variables) == [], where
            settings = settings_from(
                {name: value for name, value in variables.items() if value != "<secret>"},
                monkeypatch,
                ENTENTE_DATABASE_URL="postgresql+asyncpg://entente@db/entente",
            )
            assert not settings.is_sqlite


def test_the_api_probes_and_ports(docs: list[Doc]) -> None:
    pod = api(docs)["spec"]["template"]
    (container,) = pod["spec"]["containers"]
    port = int(option(container["args"], "--port") or 0)
    assert option(container["args"], "--host") == "0.0.0.0"  # noqa: S104 - the pod's interfaces
    assert container["ports"] == [{"name": "http", "containerPort": port, "protocol": "TCP"}]
    assert container["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "http"}
    assert container["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}
    assert container["startupProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}
    assert pod["metadata"]["annotations"]["prometheus.io/port"] == str(port)


def test_the_api_serves_without_the_in_process_worker(
    docs: list[Doc], monkeypatch: pytest.MonkeyPatch
) -> None:
    (container,) = api(docs)["spec"]["template"]["spec"]["containers"]
    variables = {k: v for k, v in environment(docs, container).items() if v != "<secret>"}
    settings = settings_from(
        variables, monkeypatch, ENTENTE_DATABASE_URL="postgresql+asyncpg://entente@db/entente"
    )
    assert settings.runs_worker_in_process is False


def test_the_worker_probes_its_health_port(docs: list[Doc]) -> None:
    pod = worker(docs)["spec"]["template"]
    (container,) = pod["spec"]["containers"]
    variables = environment(docs, container)
    assert variables["ENTENTE_WORKER_METRICS_HOST"] == "0.0.0.0"  # noqa: S104
    port = int(variables["ENTENTE_WORKER_METRICS_PORT"])
    assert container["ports"] == [{"name": "metrics", "containerPort": port, "protocol": "TCP"}]
    for probe in ("readinessProbe", "livenessProbe"):
        assert container[probe]["httpGet"] == {"path": "/healthz", "port": "metrics"}
    assert pod["metadata"]["annotations"]["prometheus.io/port"] == str(port)


def test_key_files_come_from_the_secret_and_the_retired_keys_config_map(docs: list[Doc]) -> None:
    for deployment, key_files in (
        (api(docs), ["ENTENTE_SIGNING_KEY_FILE", "ENTENTE_SECRETS_KEY_FILE"]),
        (worker(docs), ["ENTENTE_SECRETS_KEY_FILE"]),
    ):
        pod = deployment["spec"]["template"]
        (container,) = pod["spec"]["containers"]
        variables = environment(docs, container)
        for variable in key_files:
            volume, inside = mount_of(pod, container, variables[variable])
            assert volume["secret"]["secretName"] == "entente", variable
            assert inside in {item["path"] for item in volume["secret"]["items"]}, variable
    pod = api(docs)["spec"]["template"]
    (container,) = pod["spec"]["containers"]
    retired = environment(docs, container)["ENTENTE_SIGNING_KEY_RETIRED_DIR"]
    volume, inside = mount_of(pod, container, retired)
    assert inside == "."
    one(docs, "ConfigMap", volume["configMap"]["name"])
    # The worker signs no token: it never gets the private signing key.
    (worker_keys,) = [
        v for v in worker(docs)["spec"]["template"]["spec"]["volumes"] if "secret" in v
    ]
    assert [item["key"] for item in worker_keys["secret"]["items"]] == ["secrets.key"]


def test_the_migration_job(docs: list[Doc]) -> None:
    job = one(docs, "Job", "entente-migrate")
    assert 1 <= job["spec"]["backoffLimit"] <= 6
    assert job["spec"]["template"]["spec"]["restartPolicy"] == "Never"


# -- around the pods -----------------------------------------------------------------------------


def test_no_secret_is_rendered(docs: list[Doc]) -> None:
    assert [doc["metadata"]["name"] for doc in docs if doc["kind"] == "Secret"] == []
    kustomization = (KUSTOMIZATIONS["base"] / "kustomization.yaml").read_text()
    assert "secret.example.yaml" not in yaml.safe_load(kustomization)["resources"]
    assert "secretGenerator" not in kustomization


def test_the_secret_template_holds_placeholders_only() -> None:
    example = yaml.safe_load((KUSTOMIZATIONS["base"] / "secret.example.yaml").read_text())
    assert example["kind"] == "Secret"
    assert "data" not in example
    for key, value in example["stringData"].items():
        assert "CHANGE-ME" in value, key


def test_the_ingress_routes_the_public_surface_only(docs: list[Doc]) -> None:
    ingress = one(docs, "Ingress", "entente")
    paths = [path for rule in ingress["spec"]["rules"] for path in rule["http"]["paths"]]

    def routed(url: str) -> bool:
        for path in paths:
            if path["pathType"] == "Exact" and url == path["path"]:
                return True
            prefix = path["path"].rstrip("/")
            if path["pathType"] == "Prefix" and (url == prefix or url.startswith(prefix + "/")):
                return True
        return False

    for public in ("/", "/api/v1/permits", "/app/", "/app/static/app.css", "/oauth/token"):
        assert routed(public), public
    assert routed("/.well-known/jwks.json")
    for internal in ("/metrics", "/healthz", "/readyz"):
        assert not routed(internal), internal
    for path in paths:
        assert path["backend"]["service"] == {"name": "entente-api", "port": {"name": "http"}}


def test_the_autoscaler_starts_from_the_deployment(docs: list[Doc]) -> None:
    hpa = one(docs, "HorizontalPodAutoscaler", "entente-api")
    assert hpa["apiVersion"] == "autoscaling/v2"
    assert hpa["spec"]["scaleTargetRef"]["name"] == "entente-api"
    assert hpa["spec"]["minReplicas"] == api(docs)["spec"]["replicas"] >= 2
    assert hpa["spec"]["maxReplicas"] > hpa["spec"]["minReplicas"]


def test_selectors_find_their_pods(docs: list[Doc]) -> None:
    service = one(docs, "Service", "entente-api")
    labels = api(docs)["spec"]["template"]["metadata"]["labels"]
    assert service["spec"]["selector"].items() <= labels.items()
    for name, deployment in (("entente-api", api(docs)), ("entente-worker", worker(docs))):
        budget = one(docs, "PodDisruptionBudget", name)
        pod_labels = deployment["spec"]["template"]["metadata"]["labels"]
        assert budget["spec"]["selector"]["matchLabels"].items() <= pod_labels.items()
        assert deployment["spec"]["replicas"] >= 2


def test_network_policies(docs: list[Doc]) -> None:
    policies = {
        doc["metadata"]["name"]: doc["spec"] for doc in docs if doc["kind"] == "NetworkPolicy"
    }
    deny = policies["entente-default-deny"]
    assert deny["podSelector"] == {}
    assert set(deny["policyTypes"]) == {"Ingress", "Egress"}
    assert "ingress" not in deny
    assert "egress" not in deny

    def ports(rules: list[Doc]) -> set[int]:
        return {port["port"] for rule in rules for port in rule.get("ports", [])}

    assert ports(policies["entente-dns"]["egress"]) == {53}
    assert ports(policies["entente-api"]["ingress"]) == {8000}
    assert ports(policies["entente-api"]["egress"]) == {5432, 443}
    assert ports(policies["entente-worker"]["ingress"]) == {9100}
    assert ports(policies["entente-worker"]["egress"]) == {5432, 443}
    assert ports(policies["entente-migration"]["egress"]) == {5432}
    sources = [peer for rule in policies["entente-api"]["ingress"] for peer in rule["from"]]
    namespaces = {
        peer["namespaceSelector"]["matchLabels"]["kubernetes.io/metadata.name"] for peer in sources
    }
    assert namespaces == {"ingress-nginx", "monitoring"}


# -- production ----------------------------------------------------------------------------------


def images(docs: list[Doc]) -> set[str]:
    return {c["image"] for _, pod in pod_templates(docs) for c in containers(pod)}


def test_production_pins_a_released_image(rendered: dict[str, list[Doc]]) -> None:
    base, production = images(rendered["base"]), images(rendered["production"])
    assert len(production) == 1
    (image,) = production
    assert image not in base
    _, _, tag = image.rpartition(":")
    assert tag not in {"", "latest", "dev"}, image


def test_production_hostname_tls_and_issuer(rendered: dict[str, list[Doc]]) -> None:
    docs = rendered["production"]
    ingress = one(docs, "Ingress", "entente")
    hosts = {rule["host"] for rule in ingress["spec"]["rules"]}
    assert hosts != {
        rule["host"] for rule in one(rendered["base"], "Ingress", "entente")["spec"]["rules"]
    }
    assert [set(tls["hosts"]) for tls in ingress["spec"]["tls"]] == [hosts]
    (host,) = hosts
    (container,) = api(docs)["spec"]["template"]["spec"]["containers"]
    assert environment(docs, container)["ENTENTE_TOKEN_ISSUER"] == f"https://{host}"


def test_production_scales_up(rendered: dict[str, list[Doc]]) -> None:
    base, production = rendered["base"], rendered["production"]
    for pick in (api, worker):
        assert pick(production)["spec"]["replicas"] > pick(base)["spec"]["replicas"]
        (more,) = pick(production)["spec"]["template"]["spec"]["containers"]
        (less,) = pick(base)["spec"]["template"]["spec"]["containers"]
        assert more["resources"] != less["resources"]
