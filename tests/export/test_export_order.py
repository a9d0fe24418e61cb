"""in_id_order: ids listed in key order ("<id>.json") come out in byte order of the id."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from harvester.export.order import in_id_order
from harvester.keys import record_key


def key_order(ids: list[str]) -> list[str]:
    """The order a store lists the records of these ids in."""
    return sorted(ids, key=lambda i: record_key("wilson", i))


def test_numeric_ids_pass_straight_through():
    ids = [str(n) for n in (9, 10, 100, 11, 2)]
    assert list(in_id_order(key_order(ids))) == sorted(ids) == ["10", "100", "11", "2", "9"]


def test_ids_continuing_another_with_dash_or_dot_are_repaired():
    ids = ["1", "1-a", "1.a", "1.k", "1.z", "10", "1-"]
    assert key_order(ids) != sorted(ids)
    assert list(in_id_order(key_order(ids))) == sorted(ids)


def test_nothing_is_held_back_for_plain_ids():
    seen = []
    for record_id in in_id_order(iter(["100", "101", "102"])):
        seen.append(record_id)
        if record_id == "101":
            break  # lazily produced: no need to read the rest
    assert seen == ["100", "101"]


@given(st.sets(st.text(alphabet="1a.-_j", min_size=1, max_size=6), max_size=40))
def test_any_ids_come_out_sorted(ids: set[str]):
    assert list(in_id_order(key_order(list(ids)))) == sorted(ids)


def test_ids_with_escaped_characters_are_repaired():
    # keys: "a!20b", "a!3A", "a.json", "a0", "a9", "aZ", "a_", "a!C3!BC" ... sort otherwise
    ids = ["a", "a b", "a:", "a0", "a9", "aZ", "a_", "a\u00fc", "oai:x:1", "oai:x:1/2", "..", "-"]
    assert key_order(ids) != sorted(ids)
    assert list(in_id_order(key_order(ids))) == sorted(ids)


@given(st.sets(st.text(alphabet="1aZ_.-!: /%\u00fc\U0001f600", min_size=1, max_size=6),
               max_size=40))
def test_any_escaped_ids_come_out_sorted(ids: set[str]):
    assert list(in_id_order(key_order(list(ids)))) == sorted(ids)


# long ids (over 200 bytes escaped) have hashed keys: their head (148-150 bytes of the
# escaped form), "~" and hex digits, which sort unlike their ids; ids built around that
# head's length, with escapes near the cut and short ids sharing the head
_HEADS = ["x" * 140, "x" * 147 + ":", "x" * 148, "x" * 149, "y" * 100 + "\u00fc" * 10]


@settings(max_examples=300, deadline=None)
@given(st.sets(st.builds(lambda head, tail: head + tail, st.sampled_from(_HEADS),
                         st.text(alphabet="abx:.-\u00fc", min_size=0, max_size=80)),
               max_size=30))
def test_long_ids_with_hashed_keys_come_out_sorted(ids: set[str]):
    assert list(in_id_order(key_order(list(ids)))) == sorted(ids)
