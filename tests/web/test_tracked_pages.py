"""The web pages of tracked searches: columns, management (readable refusals, in French too),
analytics with inline SVG charts, the CSV export and a sentiment correction."""

from __future__ import annotations

import csv
import io
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from tests.web.test_auth_pages import form_to
from tests.web.test_public_pages import Post, browser_of

if TYPE_CHECKING:
    from tests.conftest import ApiUser as TestUser

pytestmark = pytest.mark.parametrize("backend", ["sqlite"], indirect=True)


async def test_pages_ask_to_sign_in(client: httpx.AsyncClient) -> None:
    for path in ("/columns", "/tracked", "/tracked/1/analytics", "/analytics/tags/velo"):
        r = await client.get(path)
        assert r.status_code == 303 and r.headers["location"].startswith("/auth/sign_in?next="), path


async def test_manage_columns_and_analytics(
    app: Any, client: httpx.AsyncClient, alice: TestUser, bob: TestUser, post: Post
) -> None:
    note = await post(bob, "J'adore mon #velo", language="fr")
    assert (await client.post(f"/api/v1/accounts/{alice.id}/follow", headers=bob.headers)).status_code == 200
    async with browser_of(app, alice) as browser:
        page = (await browser.get("/tracked")).text
        form = form_to(page, "/tracked")
        refused = await browser.post(
            form.action, data={**form.fields, "name": "Vélo", "query": '"pas fermé', "members": ""}
        )
        assert refused.status_code == 422
        assert "The query cannot be used: a quotation mark is not closed" in refused.text
        assert 'value="&#34;pas fermé"' in refused.text or "pas fermé" in refused.text  # kept
        refused = await browser.post(
            form.action, data={**form.fields, "name": "Vélo", "query": "velo", "members": "nobody"}
        )
        assert refused.status_code == 422 and "No account @nobody here." in refused.text
        # A signed-in person's pages speak their account's language (English here) unless asked.
        french = await browser.post(
            form.action + "?lang=fr", data={**form.fields, "name": "", "query": "velo"}
        )
        assert french.status_code == 422 and "Donnez un nom à la veille." in french.text
        await browser.get("/tracked?lang=en")
        created = await browser.post(
            form.action,
            data={**form.fields, "name": "Vélo", "query": "#velo", "members": "bob", "notify": "on"},
        )
        assert created.status_code == 303 and created.headers["location"] == "/columns"

        columns = (await browser.get("/columns")).text
        assert 'data-stream="/web/columns/stream"' in columns and "adore mon" in columns
        assert '<script src="/static/columns.js" defer></script>' in columns
        listed = (await browser.get("/tracked")).text
        search_id = listed.split('href="/tracked/', 1)[1].split("/", 1)[0]

        fragment = await browser.get(f"/web/columns/notes/{note['id']}", headers={"X-Cordee-Fetch": "1"})
        assert fragment.status_code == 200 and fragment.headers["x-cordee-columns"] == search_id
        missed = await browser.get(f"/web/columns/{search_id}/notes", params={"since_id": "0"})
        assert missed.status_code == 200 and f'data-id="{note["id"]}"' in missed.text
        missed = await browser.get(f"/web/columns/{search_id}/notes", params={"since_id": note["id"]})
        assert "article" not in missed.text
        assert (await browser.get(f"/web/columns/{search_id}/notes")).status_code == 400
        assert (await browser.get("/web/columns/12345/notes", params={"since_id": "0"})).status_code == 404

        analytics = await browser.get(f"/tracked/{search_id}/analytics")
        assert analytics.status_code == 200
        assert (
            "<svg" in analytics.text
            and 'role="img"' in analytics.text
            and "<script" not in analytics.text.split("<main", 1)[1].split("</main>")[0]
        )
        export = await browser.get(f"/tracked/{search_id}/export.csv")
        [row] = list(csv.DictReader(io.StringIO(export.text)))
        assert row["status_id"] == note["id"] and row["acct"] == "bob" and row["hashtags"] == "velo"
        correct = form_to(analytics.text, f"/tracked/{search_id}/sentiment/{note['id']}")
        done = await browser.post(correct.action, data={**correct.fields, "label": "negative"})
        assert done.status_code == 303
        export = await browser.get(f"/tracked/{search_id}/export.csv")
        [row] = list(csv.DictReader(io.StringIO(export.text)))
        assert row["sentiment"] == "negative" and row["corrected"] == "true"
        assert (await browser.get("/analytics/tags/velo")).status_code == 200
        bad = await browser.get(
            f"/tracked/{search_id}/analytics", params={"since": "2026-05-01", "until": "2025-01-01"}
        )
        assert bad.status_code == 400 and "This period cannot be shown" in bad.text

    async with browser_of(app, bob) as browser:  # shared with bob: he reads it, cannot change it
        assert "Vélo" in (await browser.get("/columns")).text
        assert (await browser.get(f"/tracked/{search_id}")).status_code == 404
        assert (await browser.get(f"/tracked/{search_id}/analytics")).status_code == 200
        leave = form_to((await browser.get("/tracked")).text, f"/tracked/{search_id}/delete")
        assert (await browser.post(leave.action, data=leave.fields)).status_code == 303
        assert "Vélo" not in (await browser.get("/columns")).text
