"""The deploy files parse: YAML (compose, Kubernetes), the Dockerfile, systemd units, the
crontab line, scrapyd.conf and scrapy.cfg's deploy target."""

from __future__ import annotations

import configparser
from urllib.parse import urlsplit

from deploy_support import (
    DEPLOY,
    DOCKERFILE_INSTRUCTIONS,
    REPO,
    compose_services,
    cron_lines,
    exec_form,
    k8s_documents,
    parse_dockerfile,
    pod_spec,
    unit_file,
    yaml_documents,
    yaml_files,
)


def test_every_yaml_file_parses() -> None:
    files = yaml_files()
    assert {p.relative_to(DEPLOY).as_posix() for p in files} >= {
        "docker-compose.yml", "k8s/configmap.yaml", "k8s/secret.yaml", "k8s/redis.yaml",
        "k8s/cronjob-incremental.yaml", "k8s/job-backfill.yaml", "k8s/deployment-workers.yaml"}
    for path in files:
        docs = yaml_documents(path)
        assert docs and all(isinstance(d, dict) for d in docs), path


def test_compose_brings_up_s3_redis_buckets_a_schedule_and_the_oai_provider() -> None:
    services = compose_services()
    assert {"s3", "redis", "createbuckets", "harvester", "backfill", "oai", "pushgateway"} <= \
        set(services)
    images = {name: str(service.get("image", "")) for name, service in services.items()}
    assert not any(image.startswith("minio/") for image in images.values())  # archived upstream
    assert images["s3"].startswith("chrislusf/seaweedfs")
    assert "weed server" in services["s3"]["command"][0] and "-s3" in services["s3"]["command"][0]
    assert "s3.bucket.create -name harvest" in services["createbuckets"]["command"][0]
    endpoint = urlsplit(services["harvester"]["environment"]["AWS_ENDPOINT_URL"])
    assert (endpoint.hostname, endpoint.port) == ("s3", 8333)  # the SeaweedFS service's S3 port
    scheduled = services["harvester"]
    assert scheduled["depends_on"]["createbuckets"]["condition"] == \
        "service_completed_successfully"
    assert "sleep" in scheduled["command"][0] and "while true" in scheduled["command"][0]
    assert services["backfill"]["profiles"] == ["backfill"]
    assert "--mode" in services["backfill"]["command"]
    oai = services["oai"]
    assert oai["command"][:2] == ["serve", "oai"] and oai["ports"] == ["127.0.0.1:8080:8080"]
    assert services["pushgateway"]["profiles"] == ["metrics"]


def test_kubernetes_manifests() -> None:
    docs = k8s_documents()
    kinds = sorted(d["kind"] for _, d in docs)
    assert kinds == ["ConfigMap", "CronJob", "Deployment", "Deployment", "Deployment", "Job",
                     "PersistentVolumeClaim", "Secret", "Service", "Service"]
    for name, doc in docs:
        assert doc["apiVersion"] and doc["metadata"].get("name") or \
            doc["metadata"].get("generateName"), name
        spec = pod_spec(doc)
        if spec is None:
            continue
        for container in spec["containers"]:
            assert container["image"] and container.get("resources"), name
        assert spec["securityContext"]["runAsNonRoot"] is True, name
    cron = next(d for _, d in docs if d["kind"] == "CronJob")
    assert len(cron["spec"]["schedule"].split()) == 5
    assert cron["spec"]["concurrencyPolicy"] == "Forbid"
    redis_service = next(d for _, d in docs if d["kind"] == "Service"
                         and d["metadata"]["name"] == "harvester-redis")
    configmap = next(d for _, d in docs if d["kind"] == "ConfigMap")
    assert urlsplit(configmap["data"]["HARVESTER_REDIS_URL"]).hostname == \
        redis_service["metadata"]["name"]
    claim = next(d for _, d in docs if d["kind"] == "PersistentVolumeClaim")
    for _, doc in docs:  # every pod takes its configuration from the ConfigMap and Secret
        spec = pod_spec(doc)
        for container in (spec or {}).get("containers", []):
            if container["image"].startswith("archive-harvester"):
                refs = {next(iter(r.values()))["name"] for r in container["envFrom"]}
                assert refs == {"harvester-config", "harvester-aws"}
                # the spool outlives the pod (a Job's pod ends after an outage, exit 3)
                mounts = {m["name"]: m["mountPath"] for m in container["volumeMounts"]}
                assert mounts["spool"] == configmap["data"]["HARVESTER_SPOOL_DIR"]
                volumes = {v["name"]: v for v in spec["volumes"]}  # type: ignore[index]
                assert volumes["spool"]["persistentVolumeClaim"]["claimName"] == \
                    claim["metadata"]["name"]


def test_dockerfile() -> None:
    instructions = parse_dockerfile((DEPLOY / "Dockerfile").read_text("utf-8"))
    assert {i.keyword for i in instructions} <= DOCKERFILE_INSTRUCTIONS
    # BASE_IMAGE: the public python image unless the build names another base
    args = {i.args.partition("=")[0]: i.args.partition("=")[2] for i in instructions
            if i.keyword == "ARG"}
    assert args["BASE_IMAGE"] == "python:3.11-slim" and args["WHEELS"] == ""
    assert all(i.args.split()[0] == "${BASE_IMAGE}" for i in instructions if i.keyword == "FROM")
    final = max(i.stage for i in instructions)
    stage = [i for i in instructions if i.stage == final]
    assert stage[0].keyword == "FROM"
    users = [i.args for i in stage if i.keyword == "USER"]
    assert users and users[-1] not in ("root", "0") and not users[-1].startswith("0:")
    assert exec_form(next(i.args for i in stage if i.keyword == "ENTRYPOINT")) == ["harvester"]
    # the final stage installs from wheels only: no index, no compiler, no build
    installs = [i.args for i in stage if i.keyword == "RUN" and "pip install" in i.args]
    assert installs and all("--no-index" in a for a in installs), installs
    assert not any(w in i.args for i in stage if i.keyword == "RUN"
                   for w in ("apt-get", "gcc", "build-essential", "pip wheel"))
    for ins in instructions:
        if ins.keyword == "RUN" and "pip " in ins.args:
            assert "--no-cache-dir" in ins.args, ins.args
        if ins.keyword == "COPY" and "--from" not in ins.args:
            sources = [s.replace("${WHEELS:-", "").rstrip("}") for s in ins.args.split()[:-1]]
            assert all((REPO / s).exists() for s in sources), sources  # in the build context


def test_systemd_units() -> None:
    service = unit_file(DEPLOY / "systemd" / "harvester.service")
    timer = unit_file(DEPLOY / "systemd" / "harvester.timer")
    settings = dict(service["Service"])
    assert settings["Type"] == "oneshot" and settings["User"] not in ("root", "0")
    assert settings["ExecStart"].split()[0].startswith("/")  # systemd wants absolute paths
    assert dict(timer["Timer"])["OnCalendar"] and dict(timer["Timer"])["Persistent"] == "true"
    assert dict(timer["Install"])["WantedBy"] == "timers.target"  # harvester.timer starts
    assert "Install" in service  # harvester.service (same name)


def test_cron_line() -> None:
    jobs, _ = cron_lines()
    assert len(jobs) == 1
    fields = jobs[0][:5]
    ranges = [(0, 59), (0, 23), (1, 31), (1, 12), (0, 7)]
    for field, (low, high) in zip(fields, ranges, strict=True):
        for part in field.split(","):
            base, _, step = part.partition("/")
            assert not step or step.isdigit()
            if base != "*":
                for bound in base.split("-"):
                    assert low <= int(bound) <= high, field


def test_scrapyd_conf_and_deploy_target() -> None:
    scrapyd = configparser.ConfigParser()
    scrapyd.read(DEPLOY / "scrapyd" / "scrapyd.conf")
    cfg = configparser.ConfigParser()
    cfg.read(REPO / "scrapy.cfg")
    assert cfg["settings"]["default"] == "harvester.settings"
    target = cfg["deploy"]
    assert target["project"] == "harvester"
    assert urlsplit(target["url"]).port == int(scrapyd["scrapyd"]["http_port"])
    __import__(cfg["settings"]["default"])  # the settings module scrapyd jobs load


def test_the_oai_provider_is_scraped_and_the_runs_push() -> None:
    docs = {(d["kind"], d["metadata"].get("name")): d for _, d in k8s_documents()}
    oai = docs[("Deployment", "harvester-oai")]
    pod = oai["spec"]["template"]
    annotations = pod["metadata"]["annotations"]
    container = pod["spec"]["containers"][0]
    port = next(p for p in container["ports"] if p["name"] == "http")["containerPort"]
    assert annotations["prometheus.io/scrape"] == "true"
    assert (annotations["prometheus.io/port"], annotations["prometheus.io/path"]) == \
        (str(port), "/metrics")
    assert container["readinessProbe"]["httpGet"]["path"] == "/oai?verb=Identify"
    service = docs[("Service", "harvester-oai")]
    assert service["spec"]["selector"] == oai["spec"]["selector"]["matchLabels"]
    push = urlsplit(docs[("ConfigMap", "harvester-config")]["data"]["HARVESTER_PUSHGATEWAY"])
    assert push.scheme == "http" and push.port == 9091
    workers = docs[("Deployment", "harvester-workers")]["spec"]["template"]["spec"]["containers"][0]
    assert {"name": "HARVESTER_PUSHGATEWAY", "value": ""} in workers["env"]
