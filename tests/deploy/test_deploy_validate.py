"""The deploy files validate against the tools that read them: the compose file with
`docker-compose config` (Debian's docker-compose, installed by .ci/docker.sh), the
Kubernetes manifests against the Kubernetes schemas (kubernetes-validate), strictly; and
what docker-compose resolves (anchors, merges, variables) runs the real CLI."""

from __future__ import annotations

import copy
import shutil
import subprocess
from typing import Any

import kubernetes_validate
import pytest
import yaml
from deploy_support import AWS_VARIABLES, DEPLOY, _container_commands, is_harvester_service, k8s_documents

from harvester.cli import build_parser
from harvester.config import ENVIRONMENT

K8S_VERSION = kubernetes_validate.latest_version()


def _compose_config(*args: str) -> subprocess.CompletedProcess[str]:
    binary = shutil.which("docker-compose")
    if binary is None:
        pytest.skip("docker-compose is not installed (.ci/docker.sh installs Debian's package)")
    return subprocess.run([binary, "-f", str(DEPLOY / "docker-compose.yml"), *args],
                          capture_output=True, text=True, timeout=60, cwd=DEPLOY)


@pytest.fixture(scope="module")
def resolved() -> dict[str, Any]:
    proc = _compose_config("--profile", "backfill", "--profile", "metrics", "config")
    assert proc.returncode == 0, proc.stderr
    return dict(yaml.safe_load(proc.stdout))


def test_compose_file_is_valid_for_docker_compose(resolved: dict[str, Any]) -> None:
    assert set(resolved["services"]) == {"s3", "redis", "createbuckets", "harvester", "backfill",
                                         "oai", "pushgateway"}
    assert set(resolved["volumes"]) == {"s3data", "spool"}


def test_resolved_services_run_the_real_cli(resolved: dict[str, Any]) -> None:
    seen = 0
    for name, service in resolved["services"].items():
        if not is_harvester_service(service):
            continue
        for var in service.get("environment", {}):
            assert var in ENVIRONMENT or var in AWS_VARIABLES, (name, var)
        command = service.get("command") or ["harvest", "wilson"]
        entrypoint = service.get("entrypoint")
        calls = (_container_commands(name, [*entrypoint, *command], None, ["harvester"])
                 if entrypoint else _container_commands(name, None, command, ["harvester"]))
        for call in calls:
            args = build_parser().parse_args(call.argv)  # exits on anything unknown
            assert args.command in ("harvest", "serve"), call
            seen += 1
    assert seen == 3  # harvester, backfill, oai


def test_docker_compose_rejects_a_broken_file(tmp_path) -> None:  # type: ignore[no-untyped-def]
    doc = yaml.safe_load((DEPLOY / "docker-compose.yml").read_text("utf-8"))
    doc["services"]["oai"]["depends_on"] = {"nowhere": {"condition": "service_healthy"}}
    broken = tmp_path / "docker-compose.yml"
    broken.write_text(yaml.safe_dump(doc), "utf-8")
    binary = shutil.which("docker-compose")
    if binary is None:
        pytest.skip("docker-compose is not installed")
    proc = subprocess.run([binary, "-f", str(broken), "config", "-q"], capture_output=True,
                          text=True, timeout=60)
    assert proc.returncode != 0 and "nowhere" in proc.stderr


DOCS = k8s_documents()


@pytest.mark.parametrize("doc", [d for _, d in DOCS],
                         ids=[f"{name}:{d['kind']}" for name, d in DOCS])
def test_kubernetes_manifest_validates_against_the_schemas(doc: dict[str, Any]) -> None:
    kubernetes_validate.validate(doc, K8S_VERSION, strict=True)


def test_the_schemas_catch_a_misspelt_field() -> None:
    cron = copy.deepcopy(next(d for _, d in DOCS if d["kind"] == "CronJob"))
    cron["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0]["argz"] = ["x"]
    with pytest.raises(kubernetes_validate.ValidationError, match="argz"):
        kubernetes_validate.validate(cron, K8S_VERSION, strict=True)


def test_compose_shell_commands_parse(resolved: dict[str, Any]) -> None:
    """The /bin/sh -c scripts (SeaweedFS's identity, the bucket step, the schedule) as the
    container's shell gets them from compose ($$ -> $), parsed by sh -n."""
    scripts = 0
    for name, service in resolved["services"].items():
        if (service.get("entrypoint") or [])[:2] == ["/bin/sh", "-c"]:
            script = " ".join(service["command"]).replace("$$", "$")
            check = subprocess.run(["sh", "-n", "-c", script], capture_output=True, text=True,
                                   timeout=30)
            assert check.returncode == 0, (name, check.stderr)
            scripts += 1
    assert scripts == 3  # s3, createbuckets, harvester
