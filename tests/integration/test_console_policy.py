"""The console's Dunning policy page through its handler over moto: every role reads the policy and previews a
sample invoice; the admin edits it through the page's own form (what a browser would send), it is stored as the
operator API reads it and audited as them; a stale form is a 409 page; a viewer has no form and a forged post is
refused; CSRF-less posts are refused; hostile input is a 422 page naming the field, never a 500."""

from __future__ import annotations

from html.parser import HTMLParser
from typing import Any

import pytest

from shared import wiring
from shared.domain.console_roles import Role
from shared.domain.records import DUNNING_POLICY_ID, AuditEntry, AuditSubject
from tests.integration.console_browser import ConsoleBrowser, signed_in
from tests.integration.helpers import operator
from tests.support import json_body

PATH = "/console/dunning-policy"


class FormReader(HTMLParser):
    """The fields a browser would post from the page's POST form: inputs, the selected options, checked boxes."""

    def __init__(self) -> None:
        super().__init__()
        self.fields: dict[str, str] = {}
        self._in_post_form = False
        self._select: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self._in_post_form = a.get("method") == "post" and a.get("action", "").endswith(PATH)
        if not self._in_post_form:
            return
        if tag == "input" and "name" in a and (a.get("type") != "checkbox" or "checked" in a):
            self.fields[a["name"]] = a.get("value", "")
        elif tag == "select":
            self._select = a["name"]
            self.fields.setdefault(self._select, "")
        elif tag == "option" and self._select and ("selected" in a or not self.fields[self._select]):
            self.fields[self._select] = a.get("value", "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "select":
            self._select = None
        elif tag == "form":
            self._in_post_form = False


def page_form(body: str) -> dict[str, str]:
    reader = FormReader()
    reader.feed(body)
    return reader.fields


def policy_via_api() -> dict[str, Any]:
    reply = operator("GET", "/v1/dunning-policy", "/v1/dunning-policy")
    assert reply["statusCode"] == 200, reply["body"]
    return dict(json_body(reply))


@pytest.mark.parametrize("role", list(Role))
def test_every_role_reads_the_policy_and_previews_a_sample_invoice_from_the_nav(console: str, role: Role) -> None:
    browser = signed_in(role)
    today = browser.get("/console/today")
    assert 'href="/console/dunning-policy">Dunning policy</a>' in today.body
    shown = browser.get(f"{PATH}?sample_amount=250.00&sample_currency=EUR&sample_due_date=2027-06-30"
                        "&sample_timezone=Europe/Berlin")  # fmt: skip
    assert shown.status == 200 and "<h1>Dunning policy</h1>" in shown.body
    assert "An invoice for €250.00 due 2027-06-30, to a customer in Europe/Berlin" in shown.body
    assert "2027-06-23 09:00" in shown.body and "2027-07-30 09:00" in shown.body  # upcoming, final notice
    has_form = 'name="intent" value="save"' in shown.body
    assert has_form is (role is Role.ADMIN)


def test_a_sample_the_page_cannot_read_is_a_400_page_saying_why(console: str) -> None:
    browser = signed_in(Role.VIEWER)
    shown = browser.get(f"{PATH}?sample_due_date=9999-12-31")
    assert shown.status == 400 and "the due date must be a date from 2000-01-01 to 2099-12-31" in shown.body


def test_the_admin_edits_the_policy_on_the_page_previews_it_then_saves_it_audited_as_them(console: str) -> None:
    browser = signed_in(Role.ADMIN)
    form = page_form(browser.get(PATH).body)
    form |= {"steps-2-fee_kind": "fixed", "steps-2-fee": "750", "steps-6-offset_days": "45",
             "steps-6-template": "final_notice", "window_start": "08:00", "sample_amount": "100.00",
             "sample_due_date": "2027-04-01"}  # fmt: skip

    # When they preview it: the edited policy's schedule, with the fee, and nothing saved yet
    previewed = browser.post(PATH, form | {"intent": "preview"}, csrf=False)
    assert previewed.status == 200 and "under the edited policy (not saved)" in previewed.body
    assert "$7.50" in previewed.body and "$107.50" in previewed.body and "2027-05-16 08:00" in previewed.body
    assert [s["offset_days"] for s in policy_via_api()["steps"]] == [-7, 0, 3, 7, 14, 30]

    # When they save it (from the previewed page's form, which carries the revision it was loaded with)
    saved = browser.post(PATH, page_form(previewed.body) | {"intent": "save"}, csrf=False)
    assert saved.status == 303 and saved.location.endswith("/console/dunning-policy?saved=1")
    assert "Policy saved" in browser.follow().body
    # Then the operator API reads it back, and the trail names the admin
    stored = policy_via_api()
    assert [s["offset_days"] for s in stored["steps"]] == [-7, 0, 3, 7, 14, 30, 45]
    assert stored["steps"][2]["late_fee"] == {"fixed": 750, "percent": None, "cap": None}
    assert stored["window_start"] == "08:00:00"
    trail = wiring.ledger().list_audit(AuditSubject.DUNNING_POLICY, DUNNING_POLICY_ID, 10, None).items
    assert [(e.action, e.actor.split(":")[-1]) for e in trail if isinstance(e, AuditEntry)] == [
        ("dunning_policy.replaced", "admin@payportal.local")
    ]


def test_a_form_loaded_before_the_policy_changed_is_a_409_page_and_the_change_is_kept(console: str) -> None:
    browser = signed_in(Role.ADMIN)
    form = page_form(browser.get(PATH).body) | {"steps-0-offset_days": "-3", "intent": "save"}
    # Meanwhile another system replaces the policy through the operator API
    theirs = {"steps": [{"offset_days": 5, "template": "overdue"}]}
    assert operator("PUT", "/v1/dunning-policy", "/v1/dunning-policy", body=theirs)["statusCode"] == 200

    stale = browser.post(PATH, form, csrf=False)

    assert stale.status == 409 and "The dunning policy has changed" in stale.body
    assert [s["offset_days"] for s in policy_via_api()["steps"]] == [5]


@pytest.mark.parametrize("role", [Role.VIEWER, Role.COLLECTOR])
def test_a_viewer_or_collector_has_no_form_and_a_forged_post_is_refused(console: str, role: Role) -> None:
    admin_form = page_form(signed_in(Role.ADMIN).get(PATH).body)
    browser = signed_in(role)
    browser.get(PATH)
    forged = browser.post(PATH, {k: v for k, v in admin_form.items() if k != "csrf"} | {"steps-0-offset_days": "-1"})
    assert forged.status == 403 and "role does not allow" in forged.body
    assert [s["offset_days"] for s in policy_via_api()["steps"]] == [-7, 0, 3, 7, 14, 30]


def test_a_post_without_the_csrf_token_or_from_another_site_is_refused(console: str) -> None:
    browser = signed_in(Role.ADMIN)
    form = page_form(browser.get(PATH).body) | {"steps-0-offset_days": "-1", "intent": "save"}
    assert browser.post(PATH, {k: v for k, v in form.items() if k != "csrf"}, csrf=False).status == 403
    assert browser.post(PATH, form, csrf=False, origin="https://evil.example").status == 403
    assert [s["offset_days"] for s in policy_via_api()["steps"]] == [-7, 0, 3, 7, 14, 30]


@pytest.mark.parametrize(
    ("changes", "said"),
    [
        ({"steps-1-offset_days": "99999999999999999999"}, "step 2, offset days: Input should be less than or equal"),
        ({"steps-1-template": "<img src=x onerror=alert(1)>"}, "step 2, template: Input should be"),
        ({"window_end": "24:00"}, "window end: must be a local time in whole minutes"),
        ({"steps-1-fee_kind": "percent", "steps-1-fee": "NaN"}, "step 2, late fee, percent: String should match"),
        ({"mark_uncollectible_after_days": "-1"}, "mark uncollectible after days"),
    ],
)
def test_hostile_input_is_a_422_page_naming_the_field_and_nothing_is_saved(
    console: str, changes: dict[str, str], said: str
) -> None:
    browser = signed_in(Role.ADMIN)
    form = page_form(browser.get(PATH).body) | changes | {"intent": "save"}
    refused = browser.post(PATH, form, csrf=False)
    assert refused.status == 422 and "Nothing was saved" in refused.body and said in refused.body
    assert "<img src=x" not in refused.body  # echoed escaped, if at all
    assert [s["offset_days"] for s in policy_via_api()["steps"]] == [-7, 0, 3, 7, 14, 30]


def test_a_form_with_too_many_fields_is_a_400_page(console: str) -> None:
    browser = signed_in(Role.ADMIN)
    form = page_form(browser.get(PATH).body) | {f"x{n}": "1" for n in range(200)}
    assert browser.post(PATH, form, csrf=False).status == 400


def test_a_signed_out_browser_is_sent_to_sign_in(console: str) -> None:
    assert ConsoleBrowser().get(PATH).location.endswith("/console/sign-in")
