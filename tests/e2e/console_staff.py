"""Staff members of the e2e tests' own, made in the local stack's Cognito (moto) as an admin invites them, so
that a test never shares one with another (the seeded users enrol TOTP once per stack, in one test)."""

from __future__ import annotations

import re
import uuid
from typing import Any, Final

import boto3
from playwright.sync_api import expect

from local.stack import LocalStack
from tests.integration.console_browser import fresh_code

TEMPORARY_PASSWORD: Final = "Temporary-Pass-1!"
OWN_PASSWORD: Final = "An-Accessible-Password-42"


def new_staff_member(stack: LocalStack, role: str) -> str:
    """Someone an admin invited (a temporary password, as `admin-create-user` sends it), in `role`'s group."""
    assert stack.resources is not None
    idp = boto3.client("cognito-idp", region_name="us-east-1", endpoint_url=stack.moto_url)
    email = f"e2e-{role}-{uuid.uuid4().hex[:6]}@payportal.local"
    pool = stack.resources.console_user_pool_id
    idp.admin_create_user(UserPoolId=pool, Username=email, UserAttributes=[{"Name": "email", "Value": email}],
                          TemporaryPassword=TEMPORARY_PASSWORD, MessageAction="SUPPRESS")  # fmt: skip
    idp.admin_add_user_to_group(UserPoolId=pool, Username=email, GroupName=role)
    return email


def sign_in(page: Any, stack: LocalStack, email: str, password: str) -> None:
    page.goto(f"{stack.api_url}/console/sign-in")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Continue").click()


def choose_password_and_enrol(page: Any) -> str:
    """On the new-password page: choose one, enrol TOTP from the setup key; the secret, once on Today."""
    expect(page.get_by_role("heading", name="Choose your password")).to_be_visible()
    page.get_by_label("New password").fill(OWN_PASSWORD)
    page.get_by_role("button", name="Save and continue").click()
    expect(page.get_by_role("heading", name="Set up your authenticator app")).to_be_visible()
    secret = str(page.locator(".key").inner_text()).strip()
    page.get_by_label("The six-digit code the app shows").fill(fresh_code(secret))
    page.get_by_role("button", name="Verify and sign in").click()
    page.wait_for_url(re.compile(r".*/console/today$"))
    return secret


def signed_in_as_new(page: Any, stack: LocalStack, role: str) -> str:
    """A new staff member in `role`, signed in on `page` (on Today); their email."""
    email = new_staff_member(stack, role)
    sign_in(page, stack, email, TEMPORARY_PASSWORD)
    choose_password_and_enrol(page)
    return email
