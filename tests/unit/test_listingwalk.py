"""listingwalk.next_step: the walk follows page numbers, ends at the listing's end, and stops
with a reason where a page should have held results and held none."""

from __future__ import annotations

from harvester.listingwalk import next_step
from harvester.sites.wilson import Listing


def page(n: int, total: int | None = None, shown_to: int | None = None,
         says_empty: bool = False, first: int = 0) -> Listing:
    return Listing([f"https://x/document/d{i}" for i in range(first, first + n)], None, total,
                   shown_to, says_empty)


def walk(sizes: list[int], page_size: int = 100, counted: bool = False) -> list[int]:
    """The pages a walk fetches over a listing whose pages hold `sizes` results."""
    total = sum(sizes)
    fetched, prior, current = [], None, 0
    while current is not None:
        fetched.append(current)
        n = sizes[current] if current < len(sizes) else 0
        shown = sum(sizes[:current + 1]) if counted and n else None
        listing = page(n, total if counted and n else None, shown, first=sum(sizes[:current]))
        step = next_step(current, listing, page_size, prior)
        assert step.problem is None, step.problem
        prior, current = step.carry, step.next_page
    return fetched


def test_without_a_count_the_walk_ends_at_the_empty_page_after_the_last() -> None:
    assert walk([100, 100, 37]) == [0, 1, 2, 3]


def test_a_short_page_in_the_middle_does_not_end_a_walk_without_a_count() -> None:
    # an index entry that renders no row: page 1 is short, page 2 still holds results
    assert walk([25, 24, 11], page_size=25) == [0, 1, 2, 3]


def test_a_page_past_the_end_that_repeats_the_last_page_ends_the_walk() -> None:
    # Drupal's pager answers page numbers past the last with the last page again
    last = page(10)
    step = next_step(2, last, 25, {"digest": "x"})
    assert step.next_page == 3
    again = next_step(3, last, 25, step.carry)
    assert again.next_page is None and again.repeated and again.problem is None


def test_a_listing_of_exactly_full_pages_ends_at_the_empty_page_after_it() -> None:
    assert walk([100, 100]) == [0, 1, 2]


def test_the_count_ends_the_walk_exactly() -> None:
    assert walk([100, 100], counted=True) == [0, 1]
    assert walk([100, 100, 37], counted=True) == [0, 1, 2]


def test_a_site_that_ignores_items_per_page_is_walked_to_its_end() -> None:
    # asked for 100, served 10 a page: "fewer than asked" alone must not end the walk
    assert walk([10] * 5 + [3]) == [0, 1, 2, 3, 4, 5, 6]
    assert walk([10] * 5 + [3], counted=True) == [0, 1, 2, 3, 4, 5]


def test_a_short_page_of_a_resumed_walk_looks_at_the_next_page() -> None:
    step = next_step(7, page(40), 100, None)
    assert step.next_page == 8 and step.problem is None


def test_an_empty_first_page_is_a_problem_even_when_it_says_no_results() -> None:
    assert "first listing page holds no document links" in next_step(0, page(0), 100).problem
    said = next_step(0, page(0, says_empty=True), 100).problem
    assert "says it has no results" in said


def test_an_empty_page_the_count_said_would_hold_results_is_a_problem() -> None:
    first = next_step(0, page(100, total=250, shown_to=100), 100)
    assert first.next_page == 1
    step = next_step(1, page(0), 100, first.carry)
    assert step.next_page is None
    assert step.problem == ("listing page 1 holds no document links, though the page before "
                            "it showed results to 100 of 250")


def test_an_empty_page_past_the_end_ends_the_walk_quietly() -> None:
    prior = next_step(2, page(100, total=300, shown_to=300), 100).carry
    assert next_step(3, page(0), 100, prior).problem is None
    assert next_step(3, page(0, says_empty=True), 100, None).problem is None
