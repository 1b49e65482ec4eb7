"""The account page's routes, `GET /v1/privacy` and the usage counters, through the gateway."""

from __future__ import annotations

import json
from dataclasses import replace

import boto3
import pytest
from integration_support import REGION, Gateway, load_function

from cutout.data import schema

PAGE_ROUTES = {"/account": "text/html", "/account/account.js": "text/javascript",
               "/account/account.css": "text/css"}


@pytest.mark.parametrize("path", sorted(PAGE_ROUTES))
def test_the_page_files_need_no_key_and_lock_the_page_down(gateway, settings, path):
    # When a browser asks for one of the page's files without any key
    answer = gateway.request("GET", path)
    # Then it gets the file, with a CSP that allows only this origin and the signed links' S3
    assert answer.status == 200
    assert answer.headers["Content-Type"].startswith(PAGE_ROUTES[path])
    csp = answer.headers["Content-Security-Policy"]
    directives = dict(d.strip().split(" ", 1) for d in csp.split(";"))
    assert directives["default-src"] == "'self'"
    assert directives["script-src"] == "'self'"
    assert directives["style-src"] == "'self'"
    assert directives["frame-ancestors"] == "'none'"
    assert directives["connect-src"].startswith("'self' https://")
    assert "*" not in directives["connect-src"]
    s3_origin = directives["connect-src"].split()[1]
    assert settings.transient_bucket in s3_origin or "s3" in s3_origin
    assert answer.headers["Referrer-Policy"] == "no-referrer"
    assert answer.headers["X-Content-Type-Options"] == "nosniff"
    assert not any(name.lower() == "set-cookie" for name in answer.headers)


def test_the_csp_names_the_origin_the_signed_links_really_use(gateway, caller):
    # Given a signed upload the API hands out
    upload = gateway.request("POST", "/v1/uploads", key=caller.secret).json()
    # When the page is served
    csp = gateway.request("GET", "/account").headers["Content-Security-Policy"]
    # Then its connect-src admits exactly that URL's origin
    scheme, rest = upload["upload_url"].split("://", 1)
    assert f"{scheme}://{rest.split('/', 1)[0]}" in csp.split("connect-src")[1].split(";")[0]


def test_the_page_has_no_inline_script_or_style_and_only_relative_links(gateway):
    # When the HTML is read
    html = gateway.request("GET", "/account").body.decode()
    # Then scripts and styles are files of this origin, linked relatively (stage prefix)
    assert '<script src="account/account.js" defer></script>' in html
    assert 'href="account/account.css"' in html
    assert "<style" not in html and " style=" not in html and "onclick" not in html
    assert "http://" not in html and "https://" not in html


@pytest.mark.parametrize("path", ["/account/../settings.py", "/account/index.html",
                                  "/account/account.js.map", "/account/"])
def test_nothing_else_is_served_under_the_page(gateway, path):
    # When anything but the three files is asked for, Then no route answers it
    assert gateway.request("GET", path).status in (403, 404)


def test_privacy_needs_a_key(gateway):
    # When the privacy answers are asked for without a key, Then the gateway refuses
    assert gateway.request("GET", "/v1/privacy").status == 401


def test_privacy_answers_follow_the_settings(gateway, caller, settings, stores, accounts):
    # Given the default deployment, When the caller reads the privacy answers
    answer = gateway.request("GET", "/v1/privacy", key=caller.secret)
    # Then they come from the settings and the region, for this account's switch
    assert answer.status == 200
    body = answer.json()
    facts = body["facts"]
    assert facts["region"] == REGION
    assert facts["kms_key"] == settings.kms_key_id
    assert facts["training_retention_days"] == settings.training_retention_days
    assert facts["training_opt_in"] is False
    training = next(a for a in body["answers"] if a["topic"] == "training")
    assert f"kept for {settings.training_retention_days} days" in training["answer"]

    # When a deployment with other settings answers (the function configured differently)
    from cutout.service.keys import Authenticator

    other = replace(settings, training_retention_days=30, zero_retention=True)
    authorizer = load_function("authorizer").make_handler(Authenticator(stores.accounts))
    handler = load_function("account").make_handler(accounts, settings=other)
    changed = Gateway(authorizer, {"account": handler}).request(
        "GET", "/v1/privacy", key=caller.secret).json()
    # Then the answers say so
    assert changed["facts"]["training_retention_days"] == 30
    assert changed["facts"]["zero_retention"] is True
    retention = next(a for a in changed["answers"] if a["topic"] == "retention")
    assert "Zero-retention mode is ON" in retention["answer"]


def test_each_removal_is_counted_for_the_month(gateway, caller, png_image, settings):
    # Given an account that has removed two backgrounds
    for _ in range(2):
        answer = gateway.request("POST", "/v1/remove-background", key=caller.secret,
                                 headers={"Content-Type": "image/png"}, body=png_image)
        assert answer.status == 200
    # When it reads its account
    usage = gateway.request("GET", "/v1/account", key=caller.secret).json()["usage"]
    # Then this month's counters hold both requests and the pixels of their results
    assert usage["requests"] == 2
    assert usage["megapixels"] == round(2 * 320 * 240 / 1_000_000, 2)
    assert len(usage["days"]) == 1 and usage["days"][0]["requests"] == 2
    # And the usage item holds only its key and the two counters
    table = boto3.resource("dynamodb", region_name=REGION).Table(settings.accounts_table)
    items = table.scan()["Items"]
    usage_items = [i for i in items if i[schema.SORT_KEY].startswith("USAGE#")]
    assert len(usage_items) == 1
    assert set(usage_items[0]) == {schema.PARTITION_KEY, schema.SORT_KEY,
                                   *schema.USAGE_COUNTERS}


def test_a_failed_removal_is_not_counted(gateway, caller):
    # When a request fails (not an image)
    answer = gateway.request("POST", "/v1/remove-background", key=caller.secret,
                             headers={"Content-Type": "image/png"}, body=b"not an image")
    assert answer.status in (400, 415, 422)
    # Then nothing is counted
    assert gateway.request("GET", "/v1/account", key=caller.secret).json()["usage"][
        "requests"] == 0


def test_a_counter_that_cannot_be_written_never_costs_the_caller_the_cutout(
        settings, stores, accounts, caller, png_image, logs):
    # Given a remove-background function whose usage table cannot be written
    from cutout.data.accounts import AccountStore
    from cutout.engine import Engine
    from cutout.service.keys import Authenticator
    from cutout.service.removal import RemovalService
    from cutout.service.usage import UsageMeter

    engine = Engine.shared(model_name=settings.model_name, max_pixels=settings.max_pixels,
                           threads=settings.inference_threads)
    broken_meter = UsageMeter(AccountStore.from_table_name("no-such-table"))
    service = RemovalService(engine, stores.accounts, stores.transient, stores.training,
                             usage=broken_meter)
    gateway = Gateway(load_function("authorizer").make_handler(Authenticator(stores.accounts)),
                      {"remove_background": load_function("remove_background")
                       .make_handler(service)})
    # When a removal succeeds
    answer = gateway.request("POST", "/v1/remove-background", key=caller.secret,
                             headers={"Content-Type": "image/png"}, body=png_image)
    # Then the caller still gets the cutout, and the function's JSON log says the count was
    # lost (the library's line, with the function's request id; no data)
    assert answer.status == 200
    assert answer.body[:8] == b"\x89PNG\r\n\x1a\n"
    (line,) = [json.loads(text) for text in logs.text().splitlines()
               if text.startswith("{") and "usage not counted" in text]
    assert line["error_code"] == "ResourceNotFoundException"
    assert line["level"] == "WARNING" and line["service"] == "remove-background"
    assert line["function_request_id"]


def test_the_script_calls_the_api_by_relative_paths_only(gateway):
    # When the script is read, Then every API path is relative (it works under /prod/)
    script = gateway.request("GET", "/account/account.js").body.decode()
    assert '"v1/account"' in script and '"v1/privacy"' in script
    for absolute in ('"/v1', "'/v1", "`/v1", "http://", "https://"):
        assert absolute not in script
    assert "localStorage" not in script and "document.cookie" not in script
