"""The campaign night simulation at a tiny size (3 chapters, 30 attendees, a few seconds), through
its one command: a real ``cordee serve``, the walls and thermometer as screens open them, posts,
sales and hides over HTTP, then the bare baseline. No post may be lost and every total, from the
API and from the live screens, must equal the ledger the bench recorded."""

from __future__ import annotations

from bench.campaign_night.__main__ import main


def test_a_tiny_campaign_night_loses_no_post_and_its_totals_are_exact() -> None:
    code, out = main(
        ["--chapters", "3", "--attendees", "30", "--rate", "2", "--burst-factor", "10"]
        + ["--steady-seconds", "1", "--burst-seconds", "1", "--sales-rate", "6", "--hides", "2"]
    )
    cordee = out["cordee"]
    d = cordee["deliveries"]
    assert d["acked"] == d["sent"] > 10
    assert d["expected"] >= d["acked"] and d["delivered"] == d["expected"]
    assert d["lost"] == 0 and d["unexpected"] == 0 and d["duplicates"] == 0
    assert d["hides_ok"] == d["hides"] > 0
    assert d["hides_delivered"] + d["hidden_before_shown"] >= d["hides_ok"]
    assert d["deletes_elsewhere"] == 0
    sales = cordee["sales"]
    assert sum(s["done"] for s in sales.values()) > 0
    assert all(s["done"] == s["tried"] for s in sales.values())
    assert cordee["totals"]["exact"], cordee["totals"]
    assert sum(cordee["totals"]["by_currency"]["bench"].values()) > 0
    assert out["baseline"]["deliveries"]["lost"] == 0
    assert code == 0
