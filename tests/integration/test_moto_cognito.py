"""moto's Cognito as the local stack and these tests run it (local/moto_cognito.py): MFA_SETUP for a user
with no TOTP on a pool that requires it, and a TOTP secret of each user's own."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from local import cognito, moto_cognito
from tests.integration.console_browser import fresh_code

ADMIN, VIEWER = "admin@payportal.local", "viewer@payportal.local"


@pytest.fixture
def idp(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Any, cognito.ConsolePool]]:
    for key, value in {
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "x",
        "AWS_SECRET_ACCESS_KEY": "x",
    }.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    with mock_aws():
        client = boto3.client("cognito-idp")
        pool = cognito.provision(client, "patched")
        cognito.seed_staff(client, pool, cognito.DEFAULT_CONSOLE_PASSWORD)
        yield client, pool


def password(client: Any, pool: cognito.ConsolePool, user: str) -> dict[str, Any]:
    reply: dict[str, Any] = client.initiate_auth(
        ClientId=pool.client_id,
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": user, "PASSWORD": cognito.DEFAULT_CONSOLE_PASSWORD},
    )
    return reply


def enrol(client: Any, pool: cognito.ConsolePool, user: str) -> str:
    challenge = password(client, pool, user)
    setup = client.associate_software_token(Session=challenge["Session"])
    verified = client.verify_software_token(Session=setup["Session"], UserCode=fresh_code(setup["SecretCode"]))
    client.respond_to_auth_challenge(
        ClientId=pool.client_id, ChallengeName="MFA_SETUP", Session=verified["Session"],
        ChallengeResponses={"USERNAME": user},
    )  # fmt: skip
    return str(setup["SecretCode"])


def test_a_user_without_totp_is_asked_to_set_it_up_not_signed_in(idp: tuple[Any, cognito.ConsolePool]) -> None:
    client, pool = idp
    reply = password(client, pool, ADMIN)
    assert reply["ChallengeName"] == "MFA_SETUP" and "AuthenticationResult" not in reply


def test_once_enrolled_a_user_is_asked_for_a_code(idp: tuple[Any, cognito.ConsolePool]) -> None:
    client, pool = idp
    secret = enrol(client, pool, ADMIN)
    challenge = password(client, pool, ADMIN)
    assert challenge["ChallengeName"] == "SOFTWARE_TOKEN_MFA"
    with pytest.raises(client.exceptions.CodeMismatchException):
        client.respond_to_auth_challenge(
            ClientId=pool.client_id, ChallengeName="SOFTWARE_TOKEN_MFA", Session=challenge["Session"],
            ChallengeResponses={"USERNAME": ADMIN, "SOFTWARE_TOKEN_MFA_CODE": "000000"},
        )  # fmt: skip
    signed_in = client.respond_to_auth_challenge(
        ClientId=pool.client_id, ChallengeName="SOFTWARE_TOKEN_MFA", Session=challenge["Session"],
        ChallengeResponses={"USERNAME": ADMIN, "SOFTWARE_TOKEN_MFA_CODE": fresh_code(secret)},
    )  # fmt: skip
    assert "AccessToken" in signed_in["AuthenticationResult"]


def test_each_user_gets_a_secret_of_their_own_and_anothers_codes_do_not_work(
    idp: tuple[Any, cognito.ConsolePool],
) -> None:
    client, pool = idp
    admin_secret = enrol(client, pool, ADMIN)
    setup = client.associate_software_token(Session=password(client, pool, VIEWER)["Session"])
    assert setup["SecretCode"] != admin_secret and len(setup["SecretCode"]) == 32
    with pytest.raises(client.exceptions.CodeMismatchException):
        client.verify_software_token(Session=setup["Session"], UserCode=fresh_code(admin_secret))


def test_a_moto_whose_functions_changed_is_refused() -> None:
    moto_cognito.check({**moto_cognito.SOURCE_SHA256})
    with pytest.raises(moto_cognito.MotoChanged, match="port what changed"):
        moto_cognito.check({**moto_cognito.SOURCE_SHA256, "initiate_auth": "0" * 64})
