"""Reading the deploy files: YAML documents, the Dockerfile, and every harvester command and
environment variable they hold (so the tests can hold them against the real CLI)."""

from __future__ import annotations

import json
import re
import shlex
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[2]
DEPLOY = REPO / "deploy"
IMAGE = "archive-harvester"

# the standard AWS variables boto3 reads (deploy files may set these besides ENVIRONMENT)
AWS_VARIABLES = frozenset({
    "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE",
    "AWS_REGION", "AWS_DEFAULT_REGION", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3",
    "AWS_CA_BUNDLE", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE", "AWS_ROLE_ARN",
    "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_MAX_ATTEMPTS", "AWS_RETRY_MODE",
})

DOCKERFILE_INSTRUCTIONS = frozenset({
    "FROM", "RUN", "CMD", "LABEL", "EXPOSE", "ENV", "ADD", "COPY", "ENTRYPOINT", "VOLUME",
    "USER", "WORKDIR", "ARG", "ONBUILD", "STOPSIGNAL", "HEALTHCHECK", "SHELL", "MAINTAINER",
})


@dataclass(frozen=True)
class Command:
    source: str  # file (and service or container) it came from
    argv: list[str]  # the arguments after `harvester`


@dataclass(frozen=True)
class EnvVar:
    source: str
    name: str
    value: str


def yaml_files() -> list[Path]:
    return sorted([*DEPLOY.rglob("*.yaml"), *DEPLOY.rglob("*.yml")])


def yaml_documents(path: Path) -> list[Any]:
    return [doc for doc in yaml.safe_load_all(path.read_text("utf-8")) if doc is not None]


# --- Dockerfile -------------------------------------------------------------------------
@dataclass(frozen=True)
class Instruction:
    keyword: str
    args: str
    stage: int  # index of the FROM this instruction belongs to


def parse_dockerfile(text: str) -> list[Instruction]:
    """Instructions with their continuation lines joined; comments and blanks dropped."""
    out: list[Instruction] = []
    stage = -1
    pending = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if pending and line.startswith("#"):
            continue
        if line.endswith("\\"):
            pending += line[:-1].rstrip() + " "
            continue
        full = (pending + line).strip()
        pending = ""
        keyword, _, args = full.partition(" ")
        keyword = keyword.upper()
        if keyword == "FROM":
            stage += 1
        out.append(Instruction(keyword, args.strip(), stage))
    if pending:
        raise ValueError("the Dockerfile ends inside a continued line")
    return out


def exec_form(args: str) -> list[str]:
    value = json.loads(args)
    if not (isinstance(value, list) and all(isinstance(v, str) for v in value)):
        raise ValueError(f"not an exec-form array: {args}")
    return value


def dockerfile_env(instructions: list[Instruction]) -> dict[str, str]:
    env = {}
    for ins in instructions:
        if ins.keyword == "ENV":
            for pair in shlex.split(ins.args):
                name, _, value = pair.partition("=")
                env[name] = value
    return env


# --- shell command strings ----------------------------------------------------------------
_COMPOSE_VAR = re.compile(r"\$\{(\w+)(?::?-([^}]*))?\}")


def compose_interpolate(text: str) -> str:
    """Compose's ${VAR:-default} with the default (variables of the user's shell) and $$ -> $."""
    text = _COMPOSE_VAR.sub(lambda m: m.group(2) or "", text)
    return text.replace("$$", "$")


def harvester_calls(shell: str) -> list[list[str]]:
    """The argument lists of every `harvester` (or .../bin/harvester) call in a shell line."""
    lexer = shlex.shlex(shell, posix=True, punctuation_chars=";&|<>()")
    lexer.whitespace_split = True
    tokens = list(lexer)
    calls = []
    for i, token in enumerate(tokens):
        if token == "harvester" or token.endswith("/harvester"):
            args = []
            for tok in tokens[i + 1:]:
                if tok and set(tok) <= set(";&|<>()"):
                    break
                args.append(tok)
            calls.append(args)
    return calls


# --- commands and environment of each deploy file -----------------------------------------
def _container_commands(source: str, command: Any, args: Any,
                        entrypoint: list[str]) -> list[Command]:
    """A container's harvester calls, given its command/args over the image's ENTRYPOINT."""
    if isinstance(command, str):
        command = shlex.split(command)
    if isinstance(args, str):
        args = shlex.split(args)
    command = [compose_interpolate(c) for c in command] if command else None
    args = [compose_interpolate(a) for a in args] if args else []
    if command and command[:2] == ["/bin/sh", "-c"]:
        script = " ".join(command[2:] + args)
        return [Command(source, call) for call in harvester_calls(script)]
    program = command or entrypoint
    assert program == ["harvester"], f"{source}: runs {program}, not the harvester"
    return [Command(source, args)]


def compose_services() -> dict[str, dict[str, Any]]:
    doc = yaml_documents(DEPLOY / "docker-compose.yml")[0]
    return dict(doc["services"])


def is_harvester_service(service: dict[str, Any]) -> bool:
    return "build" in service or str(service.get("image", "")).startswith(IMAGE)


def compose_commands() -> list[Command]:
    out = []
    for name, service in compose_services().items():
        if not is_harvester_service(service):
            continue
        entrypoint = service.get("entrypoint")
        command = service.get("command") or ["harvest", "wilson"]  # the image's CMD
        source = f"docker-compose.yml:{name}"
        if entrypoint:
            out += _container_commands(source, [*entrypoint, *command], None, ["harvester"])
        else:
            out += _container_commands(source, None, command, ["harvester"])
    return out


def compose_env() -> list[EnvVar]:
    out = []
    for name, service in compose_services().items():
        if is_harvester_service(service):
            for key, value in (service.get("environment") or {}).items():
                out.append(EnvVar(f"docker-compose.yml:{name}", key,
                                  compose_interpolate(str(value))))
    return out


def k8s_documents() -> list[tuple[str, dict[str, Any]]]:
    return [(path.name, doc) for path in sorted((DEPLOY / "k8s").glob("*.yaml"))
            for doc in yaml_documents(path)]


def pod_spec(doc: dict[str, Any]) -> dict[str, Any] | None:
    kind = doc.get("kind")
    if kind == "CronJob":
        return dict(doc["spec"]["jobTemplate"]["spec"]["template"]["spec"])
    if kind in ("Job", "Deployment"):
        return dict(doc["spec"]["template"]["spec"])
    return None


def harvester_containers() -> list[tuple[str, dict[str, Any]]]:
    out = []
    for name, doc in k8s_documents():
        spec = pod_spec(doc)
        for container in (spec or {}).get("containers", []):
            if str(container["image"]).startswith(IMAGE):
                out.append((f"k8s/{name}:{doc['kind']}", container))
    return out


_K8S_VAR = re.compile(r"\$\((\w+)\)")


def k8s_expand(text: str, env: dict[str, str]) -> str:
    """Kubernetes' $(VAR) in command and args, from the container's environment."""
    return _K8S_VAR.sub(lambda m: env.get(m.group(1), m.group(0)), text)


def container_environment(container: dict[str, Any]) -> dict[str, str]:
    """What a container's environment holds: its ConfigMaps and Secrets, then its env."""
    by_name = {doc["metadata"].get("name"): doc for _, doc in k8s_documents()}
    env: dict[str, str] = {}
    for ref in container.get("envFrom", []):
        doc = by_name[next(iter(ref.values()))["name"]]
        env.update({k: str(v) for k, v in (doc.get("data") or doc.get("stringData") or {}).items()})
    env.update({e["name"]: str(e.get("value", "")) for e in container.get("env", [])})
    return env


def k8s_commands() -> list[Command]:
    out = []
    for source, container in harvester_containers():
        env = container_environment(container)
        args = [k8s_expand(a, env) for a in container.get("args") or ["harvest", "wilson"]]
        out += _container_commands(source, container.get("command"), args, ["harvester"])
    return out


def k8s_env() -> list[EnvVar]:
    out = []
    for name, doc in k8s_documents():
        if doc["kind"] == "ConfigMap":
            out += [EnvVar(f"k8s/{name}", k, str(v)) for k, v in doc["data"].items()]
        elif doc["kind"] == "Secret":
            data = doc.get("stringData") or doc.get("data") or {}
            out += [EnvVar(f"k8s/{name}", k, str(v)) for k, v in data.items()]
    for source, container in harvester_containers():
        out += [EnvVar(source, e["name"], str(e.get("value", ""))) for e in container.get("env", [])]
    return out


def unit_file(path: Path) -> dict[str, list[tuple[str, str]]]:
    """A systemd unit: section -> (key, value) pairs in order (keys may repeat)."""
    sections: dict[str, list[tuple[str, str]]] = {}
    current = None
    for raw in path.read_text("utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("[") and line.endswith("]"):
            current = line[1:-1]
            sections.setdefault(current, [])
            continue
        assert current is not None, f"{path.name}: {line!r} outside a section"
        key, sep, value = line.partition("=")
        assert sep, f"{path.name}: not KEY=VALUE: {line!r}"
        sections[current].append((key.strip(), value.strip()))
    return sections


def systemd_commands() -> list[Command]:
    unit = unit_file(DEPLOY / "systemd" / "harvester.service")
    out = []
    for key, value in unit["Service"]:
        if key == "ExecStart":
            out += [Command("systemd/harvester.service", c) for c in harvester_calls(value)]
    return out


def systemd_env() -> list[EnvVar]:
    unit = unit_file(DEPLOY / "systemd" / "harvester.service")
    out = []
    for key, value in unit["Service"]:
        if key == "Environment":
            for pair in shlex.split(value):
                name, _, val = pair.partition("=")
                out.append(EnvVar("systemd/harvester.service", name, val))
    return out


_CRON_ENV = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)=(.*)$")


def cron_lines() -> tuple[list[list[str]], list[EnvVar]]:
    """(the schedule lines split into 5 fields + the command, the variable lines)."""
    jobs, env = [], []
    for raw in (DEPLOY / "cron" / "harvester.cron").read_text("utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        match = _CRON_ENV.match(line)
        if match:
            env.append(EnvVar("cron/harvester.cron", match.group(1), match.group(2)))
            continue
        fields = line.split(None, 5)
        jobs.append(fields)
    return jobs, env


def cron_commands() -> list[Command]:
    jobs, _ = cron_lines()
    return [Command("cron/harvester.cron", call) for job in jobs for call in harvester_calls(job[5])]


def dockerfile_commands() -> list[Command]:
    instructions = parse_dockerfile((DEPLOY / "Dockerfile").read_text("utf-8"))
    final = max(i.stage for i in instructions)
    entry = [exec_form(i.args) for i in instructions if i.keyword == "ENTRYPOINT" and i.stage == final]
    cmd = [exec_form(i.args) for i in instructions if i.keyword == "CMD" and i.stage == final]
    assert entry and entry[-1] == ["harvester"]
    return [Command("Dockerfile:CMD", cmd[-1] if cmd else [])]


def all_commands() -> list[Command]:
    return [*dockerfile_commands(), *compose_commands(), *k8s_commands(), *systemd_commands(),
            *cron_commands()]


def all_env() -> list[EnvVar]:
    docker = dockerfile_env(parse_dockerfile((DEPLOY / "Dockerfile").read_text("utf-8")))
    return [*(EnvVar("Dockerfile", k, v) for k, v in docker.items()), *compose_env(),
            *k8s_env(), *systemd_env(), *cron_lines()[1]]
