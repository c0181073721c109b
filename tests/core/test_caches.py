"""The analysis caches hold results up to a total size, however large each spec is."""

from __future__ import annotations

import threading

from explorer.core.analysis import MAX_CACHED_ANALYSIS_ROWS, analyze
from explorer.core.graph import MAX_CACHED_GRAPH_ITEMS, graph_from_spec
from explorer.core.plan import MAX_CACHED_PLAN_LAYERS, layer_plan
from explorer.core.sizecache import size_bounded_cache
from explorer.core.spec import MAX_BLOCKS_PER_STAGE, MAX_STAGES, ArchSpec


def test_the_least_recently_used_results_go_first_when_the_total_is_too_large() -> None:
    calls: list[int] = []

    @size_bounded_cache(max_entries=10, max_size=10, size_of=lambda result: result)
    def sized(n: int) -> int:
        calls.append(n)
        return n

    for n in (4, 3, 2):
        sized(n)
    sized(4)  # now the most recently used
    sized(5)  # 4 + 3 + 2 + 5 > 10: 3 and then 2 go, 4 stays
    assert sized.held_size == 9 and sized.held_entries == 2
    calls.clear()
    sized(4)
    sized(3)
    assert calls == [3]
    sized(11)  # larger than the whole cache: returned, not kept
    assert sized(11) == 11 and calls == [3, 11, 11]
    assert sized.held_size <= 10


def test_the_count_bound_still_holds_for_small_results() -> None:
    @size_bounded_cache(max_entries=3, max_size=1000, size_of=lambda result: 1)
    def same(n: int) -> int:
        return n

    for n in range(10):
        same(n)
    assert same.held_entries == 3 and same.held_size == 3
    same.cache_clear()
    assert same.held_entries == 0 and same.held_size == 0


def test_threads_share_the_cache_within_its_bounds() -> None:
    @size_bounded_cache(max_entries=50, max_size=60, size_of=lambda result: result % 7 + 1)
    def sized(n: int) -> int:
        return n

    def hammer(offset: int) -> None:
        for n in range(400):
            sized((n * 7 + offset) % 90)

    threads = [threading.Thread(target=hammer, args=(i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert 0 < sized.held_size <= 60 and sized.held_entries <= 50


def test_caching_many_of_the_largest_specs_stays_under_the_bounds() -> None:
    for cached in (layer_plan, analyze, graph_from_spec):
        cached.cache_clear()
    largest = ArchSpec(block="bottleneck", depths=(MAX_BLOCKS_PER_STAGE,) * MAX_STAGES)
    for num_classes in range(4):
        spec = ArchSpec(block=largest.block, depths=largest.depths, num_classes=num_classes)
        layer_plan(spec)
        analyze(spec)
        graph_from_spec(spec, "layer")
        assert layer_plan.held_size <= MAX_CACHED_PLAN_LAYERS
        assert analyze.held_size <= MAX_CACHED_ANALYSIS_ROWS
        assert graph_from_spec.held_size <= MAX_CACHED_GRAPH_ITEMS
    # At least one of them was dropped from each cache, and the latest is still held.
    assert layer_plan.held_entries < 4 and analyze.held_entries < 4 and graph_from_spec.held_entries < 4
    assert analyze(spec) is analyze(spec)
