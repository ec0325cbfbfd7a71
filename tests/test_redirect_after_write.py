"""A write answered with a redirect that follows its processing (303 See Other, and 302 as frameworks answer a POST
they carried out: the POST-redirect-GET pattern) may have been stored: it is in doubt, never taken for a call not
sent, which `bulkload resume` would send again (tester t36b: a PayorCRM upload stored and answered 303 was sent
again by resume, its 4 customers in the API twice, `reconciled`, exit 0). 301, 307 and 308 say the resource lies
elsewhere, not done: the call is not carried out and resume sends it. Neither redirect is followed. Served by the real
sandboxes behind a middleware that answers their writes so."""

from __future__ import annotations

from pathlib import Path

import anyio
import pytest
from aiohttp import web
from conftest import sandbox_read, serving
from test_halopsa_answers import ENV as HALO_ENV
from test_halopsa_answers import halo_app, held, job, tenants, write
from test_payorcrm_answers import ENV, Handler, Rule, crm_app, customers_file, load_both

from bulkload import load, resume

#: where the redirect points: the same server, a result page (never followed)
RESULT_PAGE = "/jsonApi/upload/customers/result/1"


def redirected_once(status: int, *, stored: bool, location: str = RESULT_PAGE) -> Rule:
    """A rule (test_payorcrm_answers.crm_app) answering the first upload `status` to `location`, after the sandbox
    stored it where `stored`; every later upload as the sandbox does."""
    answered: list[int] = []

    async def rule(request: web.Request, handler: Handler) -> web.StreamResponse:
        if answered:
            return await handler(request)
        answered.append(status)
        if stored:
            await handler(request)
        return web.Response(status=status, headers={"Location": location})

    return rule


@pytest.mark.parametrize("status", [302, 303])
async def test_an_upload_answered_with_a_redirect_after_it_was_stored_is_in_doubt_never_sent_again(
    tmp_path: Path, status: int
) -> None:
    with anyio.fail_after(60):
        async with serving(crm_app(redirected_once(status, stored=True))) as url:
            report = await load_both(tmp_path, url, customers_file(tmp_path, 3))
            again = await resume(str(tmp_path / "run.sqlite"), env=ENV, raise_on_stop=False)
            held = await sandbox_read(url, "customers")
    assert (report.loaded, report.in_doubt, report.exit_code) == (0, 3, 2), report
    stopped = report.stop_reason or ""
    assert f"answered {status}, a redirect" in stopped and "may have been carried out" in stopped, stopped
    assert (again.loaded, again.in_doubt) == (0, 3), again
    assert sorted(c["customerno"] for c in held) == ["C1", "C2", "C3"], held  # once each


@pytest.mark.parametrize("status", [302])
async def test_an_upload_redirected_to_another_origin_is_not_carried_out_and_resume_sends_it_once(
    tmp_path: Path, status: int
) -> None:
    """A 302 to the https address of the API (or another host), its path the call's own, says the API is there, not
    a page of what was done: the upload was in doubt, and the run could neither go on nor move (resume --base-url is
    refused once a call is in doubt; tester t37a). It is not carried out, as a 301 is."""
    with anyio.fail_after(60):
        moved = "https://127.0.0.1/jsonApi/upload/customers"
        async with serving(crm_app(redirected_once(status, stored=False, location=moved))) as url:
            report = await load_both(tmp_path, url, customers_file(tmp_path, 3))
            again = await resume(str(tmp_path / "run.sqlite"), env=ENV, raise_on_stop=False)
            held = await sandbox_read(url, "customers")
    assert (report.loaded, report.in_doubt, report.exit_code) == (0, 0, 2), report
    assert "may have been carried out" not in (report.stop_reason or ""), report.stop_reason
    assert (again.loaded, again.in_doubt, again.exit_code) == (3, 0, 0), again
    assert sorted(c["customerno"] for c in held) == ["C1", "C2", "C3"], held


@pytest.mark.parametrize(
    ("status", "location"),
    [
        (303, "http://127.0.0.2:24999/uploads/77"),
        (303, "https://127.0.0.1/jsonApi/upload/customers"),
        (302, "http://127.0.0.2:24999/uploads/77"),
    ],
)
async def test_an_upload_stored_and_redirected_to_a_page_of_another_origin_is_in_doubt_never_sent_again(
    tmp_path: Path, status: int, location: str
) -> None:
    """A 303 answers the request made (RFC 9110 §15.4.4) wherever it points, and a 302 to another path on another
    origin is a page of what was done, not the API moved: the upload may be stored (tester t69b: answered 303 to
    a result page on another host, resume stored it again, reconciled, exit 0)."""
    with anyio.fail_after(60):
        async with serving(crm_app(redirected_once(status, stored=True, location=location))) as url:
            report = await load_both(tmp_path, url, customers_file(tmp_path, 3))
            again = await resume(str(tmp_path / "run.sqlite"), env=ENV, raise_on_stop=False)
            held = await sandbox_read(url, "customers")
    assert (report.loaded, report.in_doubt, report.exit_code) == (0, 3, 2), report
    assert "may have been carried out" in (report.stop_reason or ""), report.stop_reason
    assert (again.loaded, again.in_doubt) == (0, 3), again
    assert sorted(c["customerno"] for c in held) == ["C1", "C2", "C3"], held  # once each


@pytest.mark.parametrize("status", [301, 307, 308])
async def test_an_upload_redirected_elsewhere_is_not_carried_out_and_resume_sends_it_once(
    tmp_path: Path, status: int
) -> None:
    with anyio.fail_after(60):
        async with serving(crm_app(redirected_once(status, stored=False))) as url:
            report = await load_both(tmp_path, url, customers_file(tmp_path, 3))
            again = await resume(str(tmp_path / "run.sqlite"), env=ENV, raise_on_stop=False)
            held = await sandbox_read(url, "customers")
    assert (report.loaded, report.in_doubt, report.exit_code) == (0, 0, 2), report
    assert (again.loaded, again.in_doubt, again.exit_code) == (3, 0, 0), again
    assert sorted(c["customerno"] for c in held) == ["C1", "C2", "C3"], held


@pytest.mark.parametrize("status", [302, 303])
async def test_a_halopsa_create_answered_with_a_redirect_after_it_was_stored_is_looked_up_never_created_twice(
    tmp_path: Path, status: int
) -> None:
    # HaloPSA takes no key: a create that may have been carried out is looked up by its name (docs/halopsa.md), and
    # the look, answered as the sandbox does, finds it stored
    redirect = redirected_once(status, stored=True)

    async def creates_redirected(request: web.Request, handler: Handler) -> web.StreamResponse:
        posted = request.method == "POST" and request.path == "/api/XeroDetails"
        return await (redirect(request, handler) if posted else handler(request))

    data = write(tmp_path / "XeroDetails.csv", [{"name": "Tenant A", "tenant_id": "tid-a"}])
    with anyio.fail_after(60):
        async with serving(halo_app(tmp_path, tenants(3, "v1"), creates_redirected)) as url:
            report = await load(job(tmp_path, data, url), env=HALO_ENV, raise_on_stop=False)
            again = await resume(str(tmp_path / "run.sqlite"), env=HALO_ENV, raise_on_stop=False)
            after = await held(url)
    assert [r["name"] for r in after].count("Tenant A") == 1, after
    assert (report.loaded, report.in_doubt, again.loaded, again.in_doubt) == (1, 0, 1, 0), (report, again)


@pytest.mark.parametrize("status", [302, 303])
async def test_a_halopsa_token_request_answered_with_a_redirect_leaves_no_row_in_doubt(
    tmp_path: Path, status: int
) -> None:
    # the token request is a POST, but writes nothing the run loads: the second create is answered 401 (its token
    # revoked), and the token request for it answered with a redirect, which stops the run with that row unsent
    seen = {"creates": 0, "tokens": 0}

    async def token_redirected(request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.path.endswith("/token"):
            seen["tokens"] += 1
            if seen["tokens"] == 2:
                return web.Response(status=status, headers={"Location": "/auth/login"})
        elif request.method == "POST":
            seen["creates"] += 1
            if seen["creates"] == 2:
                return web.json_response({"message": "token revoked"}, status=401)
        return await handler(request)

    data = write(tmp_path / "XeroDetails.csv", [{"name": "Tenant A"}, {"name": "Tenant B"}])
    with anyio.fail_after(60):
        async with serving(halo_app(tmp_path, tenants(3, "v1"), token_redirected)) as url:
            report = await load(job(tmp_path, data, url, batch_size=1), env=HALO_ENV, raise_on_stop=False)
            again = await resume(str(tmp_path / "run.sqlite"), env=HALO_ENV, raise_on_stop=False)
            after = await held(url)
    stopped = report.stop_reason or ""
    assert (report.loaded, report.in_doubt, report.exit_code) == (1, 0, 2), report
    assert f"answered {status}, a redirect" in stopped and "may have been carried out" not in stopped, stopped
    assert (again.loaded, again.in_doubt, again.exit_code) == (2, 0, 0), again
    assert sorted(r["name"] for r in after if r["name"].startswith("Tenant ")) == [
        *(f"Tenant {i:02d}" for i in range(1, 4)),
        "Tenant A",
        "Tenant B",
    ], after
