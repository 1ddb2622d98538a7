"""The console's user pool: TOTP required, strong passwords, invitations only, threat protection; its app
client without a secret; a group per role; the console function pointed at the client."""

from __future__ import annotations

from tests.infra.conftest import Synthesized


def pool(synthesized: Synthesized) -> dict:  # type: ignore[type-arg]
    [(_, found)] = synthesized.resources("AWS::Cognito::UserPool").items()
    return dict(found["Properties"])


def test_mfa_is_required_and_totp_only(synthesized: Synthesized) -> None:
    properties = pool(synthesized)
    assert properties["MfaConfiguration"] == "ON"
    assert properties["EnabledMfas"] == ["SOFTWARE_TOKEN_MFA"]


def test_nobody_signs_up_alone_and_passwords_are_strong(synthesized: Synthesized) -> None:
    properties = pool(synthesized)
    assert properties["AdminCreateUserConfig"]["AllowAdminCreateUserOnly"] is True
    policy = properties["Policies"]["PasswordPolicy"]
    assert policy["MinimumLength"] >= 14
    assert all(policy[k] for k in ("RequireLowercase", "RequireUppercase", "RequireNumbers", "RequireSymbols"))


def test_threat_protection_is_enforced_on_the_plus_tier(synthesized: Synthesized) -> None:
    properties = pool(synthesized)
    assert properties["UserPoolTier"] == "PLUS"
    assert properties["UserPoolAddOns"]["AdvancedSecurityMode"] == "ENFORCED"


def test_the_app_client_has_no_secret_and_only_the_password_flow(synthesized: Synthesized) -> None:
    [(_, client)] = synthesized.resources("AWS::Cognito::UserPoolClient").items()
    properties = client["Properties"]
    assert properties["GenerateSecret"] is False
    assert set(properties["ExplicitAuthFlows"]) == {"ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"}
    assert properties["PreventUserExistenceErrors"] == "ENABLED"
    assert properties["EnableTokenRevocation"] is True
    assert properties["AuthSessionValidity"] == 3  # minutes: the console's pending sign-in lapses with it


def test_one_group_per_role(synthesized: Synthesized) -> None:
    groups = {g["Properties"]["GroupName"] for g in synthesized.resources("AWS::Cognito::UserPoolGroup").values()}
    assert groups == {"viewer", "collector", "admin"}


def test_the_console_function_knows_its_client(synthesized: Synthesized) -> None:
    function = synthesized.resource(synthesized.stack.lambdas.functions["console"])
    client_ref = {"Ref": synthesized.logical_id(synthesized.stack.console.client)}
    assert function["Properties"]["Environment"]["Variables"]["PAYPORTAL_CONSOLE_CLIENT_ID"] == client_ref


def test_the_console_function_knows_its_pool_for_the_users_page(synthesized: Synthesized) -> None:
    function = synthesized.resource(synthesized.stack.lambdas.functions["console"])
    pool_ref = {"Ref": synthesized.logical_id(synthesized.stack.console.user_pool)}
    assert function["Properties"]["Environment"]["Variables"]["PAYPORTAL_CONSOLE_USER_POOL_ID"] == pool_ref


def test_an_alarm_watches_refused_sign_ins(synthesized: Synthesized) -> None:
    alarm = synthesized.resource(synthesized.stack.monitoring.alarms["ConsoleSignInFailures"])
    assert alarm["Properties"]["MetricName"] == "ConsoleSignInsRefused"
