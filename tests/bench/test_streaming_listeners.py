"""The streaming benchmark's graph: open streams can vary while the follow graph stays the same."""

from __future__ import annotations

import pytest
from bench.streaming.__main__ import parse
from bench.streaming.seed import build_graph


def test_listeners_beyond_the_open_streams_keep_a_posts_fanout() -> None:
    args = parse(["--listeners", "200", "--streams", "10", "--big-followers", "300"])
    graph = build_graph(args.listeners, args.posters, args.follows, args.big_followers, args.seed)
    assert len(graph.listeners) == 200
    # Every listener follows --follows posters, whether it streams or not: 200 × 5 follows.
    assert sum(len(p.followers) for p in graph.posters) == 200 * args.follows
    # big's followers are every listener and fillers up to --big-followers.
    assert len(graph.listeners) + len(graph.fillers) == 300
    # The same seed gives the same graph whatever number of streams is asked for.
    wider = parse(["--listeners", "200", "--streams", "200", "--big-followers", "300"])
    again = build_graph(wider.listeners, wider.posters, wider.follows, wider.big_followers, wider.seed)
    assert [len(p.followers) for p in again.posters] == [len(p.followers) for p in graph.posters]


def test_listeners_default_to_the_streams_and_never_fall_below_them(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert parse(["--streams", "30"]).listeners == 30
    with pytest.raises(SystemExit):
        parse(["--streams", "30", "--listeners", "10"])
    assert "--listeners must be at least --streams" in capsys.readouterr().err
