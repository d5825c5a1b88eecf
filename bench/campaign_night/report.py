"""What the night's records say: posts lost per wall, delivery latency per phase, sales, and the
totals of every chapter and of the campaign against the bench's own sums; the markdown table.

A wall should get an acknowledged note when the note carries the wall's chapter hashtag or the
campaign's (``streaming/campaigns.py``: a wall subscribes to both tags; the widget's rule for a
hashtag — public, not a boost — holds for every note posted here; no wall is moderated before).
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from bench.campaign_night.night import PHASES, Load
from bench.campaign_night.seed import Night
from bench.streaming.__main__ import summary
from bench.streaming.report import _fmt


def deliveries(load: Load, walls: int, taken: dict[str, Any]) -> dict[str, Any]:
    """Expected (wall, note) pairs against the frames the screens got."""
    posts = load.posts
    acked = [p for p in posts.values() if p.acked is not None]
    expected: set[tuple[int, str]] = set()
    for p in acked:
        if p.campaign:
            expected.update((w, p.key) for w in range(walls))
        else:
            expected.add((p.chapter, p.key))
    # A note an organiser hid from its wall must end up off it: a delete frame if the wall had
    # shown it, or nothing at all when the hide was recorded before the hub got to the note.
    by_id = {p.status_id: p for p in acked}
    hidden = {(h.chapter, by_id[h.status_id].key) for h in load.hides if h.code == 200}
    expected -= hidden
    got: set[tuple[int, str]] = set()
    duplicates = unexpected = via_catch_up = 0
    from_ack: dict[str, list[float]] = defaultdict(list)
    from_send: dict[str, list[float]] = defaultdict(list)
    for wall, key, received, sent, source in taken["updates"]:
        pair = (wall, key)
        if pair in got:
            duplicates += 1
            continue
        got.add(pair)
        post = posts.get(key)
        if pair in hidden:
            continue
        if pair not in expected or post is None or post.acked is None:
            unexpected += 1
            continue
        if source != "stream":
            via_catch_up += 1
            continue
        from_ack[post.phase].append((received - post.acked) * 1000)
        from_send[post.phase].append((received - sent) * 1000)
    lost = expected - got
    deleted = {(wall, status_id) for wall, status_id, _ in taken["deletes"]}
    hides_ok = [h for h in load.hides if h.code == 200]
    return {
        "sent": len(posts),
        "acked": len(acked),
        "campaign_tag": sum(1 for p in acked if p.campaign),
        "non_2xx": sum(1 for p in posts.values() if p.code is not None and not 200 <= p.code < 300),
        "failed": sum(1 for p in posts.values() if p.code is None),
        "expected": len(expected),
        "delivered": len(expected & got),
        "via_catch_up": via_catch_up,
        "lost": len(lost),
        "lost_walls": len({w for w, _ in lost}),
        "lost_sample": sorted(lost)[:5],
        "duplicates": duplicates,
        "unexpected": unexpected,
        "per_phase": {
            phase: {
                "posts": sum(1 for p in posts.values() if p.phase == phase),
                "from_ack": summary(from_ack[phase]),
                "from_send": summary(from_send[phase]),
            }
            for phase in PHASES
        },
        "hides": len(load.hides),
        "hides_ok": len(hides_ok),
        "hides_delivered": sum(1 for h in hides_ok if (h.chapter, h.status_id) in deleted),
        "hidden_before_shown": sum(1 for pair in hidden if pair not in got),
        "deletes_elsewhere": len(deleted - {(h.chapter, h.status_id) for h in hides_ok}),
    }


def sales(load: Load) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for kind in ("ticket", "rsvp", "raffle"):
        mine = [s for s in load.sales if s.kind == kind]
        out[kind] = {
            "done": sum(1 for s in mine if s.ok),
            "tried": len(mine),
            "non_2xx": sum(1 for s in mine for c in s.codes if c is not None and not 200 <= c < 300),
            "failed": sum(1 for s in mine for c in s.codes if c is None),
        }
    return out


def expected_totals(night: Night, load: Load) -> tuple[list[int], dict[str, int]]:
    """Each chapter's total and the campaign's per currency, summed from the answers the bench got."""
    chapters = [0] * len(night.chapters)
    for sale in load.sales:
        chapters[sale.chapter] += sale.cents
    by_currency: dict[str, int] = defaultdict(int)
    for c in night.chapters:
        by_currency[c.currency] += chapters[c.n]
    return chapters, {k: v for k, v in by_currency.items() if v}


def check_totals(
    night: Night, load: Load, api_chapters: list[int], api_campaign: dict[str, Any], stats: dict[str, Any]
) -> dict[str, Any]:
    """The bench's sums against the API (what the pages render) and the live streams (what the
    thermometer and the walls show at the end)."""
    chapters, by_currency = expected_totals(night, load)
    home = by_currency.get(night.currency, 0)
    walls = len(night.chapters)
    shown_chapter = [t or 0 for t in stats["chapter_totals"][:walls]]
    shown_campaign = [t or 0 for t in stats["campaign_totals"][:walls]]
    thermometer = stats["campaign_totals"][walls] or 0
    api_by_currency = {k: v for k, v in api_campaign["by_currency"].items() if v}
    checks = {
        "chapters (API) equal to the bench's sums": sum(
            1 for a, b in zip(api_chapters, chapters, strict=True) if a == b
        )
        == walls,
        "campaign raised_cents (API) equal": api_campaign["raised_cents"] == home,
        "campaign by_currency (API) equal": api_by_currency == by_currency,
        "thermometer (live) equal": thermometer == home,
        "walls' chapter totals (live) equal": shown_chapter == chapters,
        "walls' campaign totals (live) equal": all(t == home for t in shown_campaign),
    }
    return {
        "walls_off": [
            (night.chapters[i].city, a, b)
            for i, (a, b) in enumerate(zip(shown_chapter, chapters, strict=True))
            if a != b
        ][:5],
        "chapters_off": [
            (night.chapters[i].city, a, b)
            for i, (a, b) in enumerate(zip(api_chapters, chapters, strict=True))
            if a != b
        ][:5],
        "campaign": {"api": api_campaign["raised_cents"], "bench": home, "thermometer": thermometer},
        "by_currency": {"api": api_by_currency, "bench": by_currency},
        "checks": checks,
        "exact": all(checks.values()),
    }


def _row(label: str, cordee: Any, base: Any = None, digits: int = 0) -> str:
    def cell(v: Any) -> str:
        return _fmt(float(v), digits) if isinstance(v, int | float) else ("—" if v is None else str(v))

    # No ratio of a latency that can be ≤ 0 (the baseline writes the frames before its answer).
    ratio = (
        _fmt(cordee / base, 2)
        if isinstance(cordee, int | float) and isinstance(base, int | float) and base > 0 and cordee >= 0
        else "—"
    )
    return f"| {label} | {cell(cordee)} | {cell(base)} | {ratio} |"


def table(cordee: dict[str, Any], base: dict[str, Any] | None) -> list[str]:
    d, b = cordee["deliveries"], (base or {}).get("deliveries", {})
    lines = ["| figure | Cordée | baseline | ratio |", "| --- | ---: | ---: | ---: |"]
    lines.append(
        _row("walls open (and thermometer)", cordee["screens_open"], (base or {}).get("screens_open"))
    )
    for label, key in (
        ("posts sent", "sent"),
        ("posts acknowledged (200)", "acked"),
        ("… with the campaign's hashtag", "campaign_tag"),
        ("posts answered non-2xx", "non_2xx"),
        ("posts failed (no answer)", "failed"),
        ("wall deliveries expected", "expected"),
        ("wall deliveries received", "delivered"),
        ("… of which by the catch-up fetch", "via_catch_up"),
        ("**posts lost** (expected, never on the wall)", "lost"),
        ("frames for a wall they should not reach", "unexpected"),
        ("duplicate frames", "duplicates"),
    ):
        lines.append(_row(label, d.get(key), b.get(key)))
    for phase in PHASES:
        p, q = d["per_phase"][phase], b.get("per_phase", {}).get(phase, {})
        lines.append(_row(f"{phase}: posts", p["posts"], q.get("posts")))
        for name, what in (("from_ack", "ack → frame"), ("from_send", "send → frame")):
            for pct in ("p50", "p99"):
                lines.append(
                    _row(f"{phase}: {what} {pct} (ms)", p[name][pct], q.get(name, {}).get(pct), digits=1)
                )
    for key, what, digits in (
        ("seconds", "seconds to send the phase's requests", 1),
        ("cpu", "server CPU (cores)", 2),
        ("client_cpu", "posting client CPU (cores)", 2),
    ):
        for phase in PHASES:
            mine, theirs = cordee[key].get(phase), (base or {}).get(key, {}).get(phase)
            lines.append(_row(f"{phase}: {what}", mine, theirs, digits=digits))
    lines.append(_row("organiser hides acknowledged", d["hides_ok"]))
    lines.append(_row("… whose delete frame reached the wall", d["hides_delivered"]))
    lines.append(_row("… hidden before the wall had shown them", d["hidden_before_shown"]))
    lines.append(_row("delete frames on a wall where nothing was hidden", d["deletes_elsewhere"]))
    for kind, label in (
        ("ticket", "paid tickets (take + pay)"),
        ("rsvp", "RSVPs"),
        ("raffle", "raffle sales"),
    ):
        s = cordee["sales"][kind]
        lines.append(_row(f"{label} done / tried", f"{s['done']:,} / {s['tried']:,}"))
        lines.append(_row(f"{label}: non-2xx / failed", f"{s['non_2xx']} / {s['failed']}"))
    lines.append(_row("server RSS at end (MiB)", cordee.get("rss_end_mb"), (base or {}).get("rss_end_mb"), 1))
    return lines


def totals_lines(totals: dict[str, Any]) -> list[str]:
    lines = ["Totals checked against the ledger (must be exact):", ""]
    for name, ok in totals["checks"].items():
        lines.append(f"- {name}: {'met' if ok else '**missed**'}")
    c = totals["campaign"]
    lines.append(
        f"- campaign in EUR: API {c['api']:,}, bench {c['bench']:,}, thermometer {c['thermometer']:,} cents; "
        f"by currency (API) {totals['by_currency']['api']}"
    )
    for city, api, bench in totals["chapters_off"]:
        lines.append(f"- {city}: API {api:,} ≠ bench {bench:,}")
    for city, shown, bench in totals["walls_off"]:
        lines.append(f"- {city}'s wall shows {shown:,} ≠ bench {bench:,}")
    return lines
