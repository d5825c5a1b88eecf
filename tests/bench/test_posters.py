"""The write benchmark's posters: their follower counts average the fan-out asked for."""

from __future__ import annotations

from bench.mix.__main__ import SIZES, posters_near
from bench.mix.graph import generate


def test_the_posters_follower_counts_average_the_fanout_asked_for() -> None:
    graph = generate(*SIZES["reed98"], seed=1)
    followers = graph.followers_of()
    for fanout in (23, 126):
        posters = posters_near(graph, fanout)
        assert len(posters) == len(set(posters)) == 50
        mean = sum(followers.get(i, 0) for i in posters) / len(posters)
        assert abs(mean - fanout) <= 0.05 * fanout, (fanout, mean)
