"""Every command the deploy files run is a real CLI path, and every environment variable
they set is one the harvester reads (harvester.config.ENVIRONMENT) or a standard AWS one."""

from __future__ import annotations

import pytest
from deploy_support import AWS_VARIABLES, all_commands, all_env
from scrapy.settings import Settings

from harvester import settings as defaults
from harvester.cli import build_parser
from harvester.commands.harvest import build_settings
from harvester.config import ENVIRONMENT, settings_from_env
from harvester.oaiserve.config import load_settings as load_oai_settings
from harvester.runner import check_settings, spider_class

COMMANDS = all_commands()


def test_commands_were_found_in_every_file() -> None:
    sources = {c.source.split(":")[0].split("/")[0] for c in COMMANDS}
    assert sources == {"Dockerfile", "docker-compose.yml", "k8s", "systemd", "cron"}
    assert len(COMMANDS) >= 8


@pytest.mark.parametrize("command", COMMANDS, ids=[c.source for c in COMMANDS])
def test_command_parses_with_the_cli(command, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    for name in ENVIRONMENT:
        monkeypatch.delenv(name, raising=False)
    args = build_parser().parse_args(command.argv)  # argparse exits on anything unknown
    if args.command == "serve":  # the OAI-PMH provider serves the store the harvests write
        assert (args.protocol, args.host, args.port) == ("oai", "0.0.0.0", 8080), command
        assert args.store in HARVEST_STORES[_file(command.source)], (args.store, HARVEST_STORES)
        load_oai_settings(args.settings, environ={})
        return
    assert args.command == "harvest"
    spider_class(args.site)  # a known site
    check_settings(build_settings(args))


def test_the_oai_provider_is_deployed_where_the_harvests_run() -> None:
    served = {_file(c.source) for c in COMMANDS if c.argv[:2] == ["serve", "oai"]}
    assert served == {"docker-compose.yml", "k8s"}


ENV = all_env()

def _file(source: str) -> str:
    return source.split(":")[0].split("/")[0]


HARVEST_STORES: dict[str, set[str]] = {}  # deploy file -> the stores its harvests write
for _var in ENV:
    if _var.name == "HARVESTER_STORE":
        HARVEST_STORES.setdefault(_file(_var.source), set()).add(_var.value)


@pytest.mark.parametrize("var", ENV, ids=[f"{v.source}:{v.name}" for v in ENV])
def test_variable_is_read_by_the_harvester(var) -> None:  # type: ignore[no-untyped-def]
    assert var.name in ENVIRONMENT or var.name in AWS_VARIABLES, var


def test_values_have_the_settings_types() -> None:
    """Each file's values, read as the harvester reads them, give valid settings."""
    by_source: dict[str, dict[str, str]] = {}
    for var in ENV:
        by_source.setdefault(var.source.split(":")[0], {})[var.name] = var.value
    for source, env in by_source.items():
        settings = Settings()
        settings.setmodule(defaults, priority="project")
        settings.setdict(settings_from_env(env), priority="project")
        settings.getfloat("DOWNLOAD_DELAY")
        settings.getint("CONCURRENT_REQUESTS_PER_DOMAIN")
        settings.getbool("AUTOTHROTTLE_ENABLED")
        settings.getbool("HARVESTER_REDIS_JOIN_ONLY")
        assert settings.getint("HARVESTER_WORKERS") >= 1
        check_settings(settings)
        url = settings.get("HARVESTER_REDIS_URL")
        assert not url or url.startswith("redis://"), source


def test_the_checks_catch_bad_commands() -> None:
    from deploy_support import compose_interpolate, harvester_calls

    calls = harvester_calls(compose_interpolate(
        "trap 'x' TERM; while true; do harvester harvest wilson --mode ${M:-sometimes} & "
        "c=$$!; wait $$c; done"))
    assert calls == [["harvest", "wilson", "--mode", "sometimes"]]
    with pytest.raises(SystemExit):
        build_parser().parse_args(calls[0])
    assert "HARVESTER_STOER" not in ENVIRONMENT and "AWS_SECRET_KEY" not in AWS_VARIABLES
