"""`harvester extract`'s arguments read without argparse (harvester.cli._plain_extract): for
every command line it takes, what argparse makes of it; every other line goes to argparse."""

from __future__ import annotations

import itertools

import pytest

from harvester.cli import _plain_extract, build_parser, main

TOKENS = ["a.html", "b.html", "--site", "--site=wilson", "--site=", "wilson", "--url",
          "--url=http://x/document/1", "http://x/document/2", "-", "--", "-h", "--si", "-1",
          "--site=-x", "--verbose", "extract", "c d.html", "--url x"]


def argparse_result(argv: list[str]) -> dict[str, object] | None:
    try:
        return vars(build_parser("extract").parse_args(argv))
    except SystemExit:
        return None


def command_lines() -> list[list[str]]:
    lines = [["extract", *combo] for n in range(1, 5) for combo in itertools.product(TOKENS, repeat=n)]
    return lines[::7] + [["extract", "a.html", "--site", "wilson", "b.html"], ["extract"],
                         ["harvest", "wilson"], [], ["extract", "--site", "w", "a", "b", "--url", "u"]]


def test_what_it_takes_is_what_argparse_makes_and_it_takes_the_plain_forms(capsys):
    taken = 0
    for argv in command_lines():
        plain = _plain_extract(argv)
        if plain is None:
            continue
        taken += 1
        assert vars(plain) == argparse_result(argv), argv
    capsys.readouterr()  # argparse's messages for the lines it refused
    assert taken > 300
    for argv in (["extract", "p.html"], ["extract", "--site", "wilson", "p.html", "q.html"],
                 ["extract", "--url=http://x/document/1", "p.html"], ["extract", "p.html", "--site=x"]):
        assert _plain_extract(argv) is not None, argv


@pytest.mark.parametrize("argv", [["extract", "a.html", "--site", "wilson", "b.html"],
                                  ["extract", "--site"], ["extract", "-h"], ["extract", "--", "a"],
                                  ["extract", "--site", "-x", "a"], ["extract", "--si", "w", "a"]])
def test_a_line_argparse_reads_otherwise_is_left_to_it(argv):
    assert _plain_extract(argv) is None


def test_an_input_split_by_an_option_is_still_refused_as_argparse_refuses_it(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["extract", "a.html", "--site", "wilson", "b.html"])
    assert exit_info.value.code == 2
    assert "unrecognized arguments: b.html" in capsys.readouterr().err
