"""The operator console's sign-in: a Cognito user pool (TOTP required, admin invitations only, threat
protection), its app client and a group per role. The console function itself is built with the others
(infra/components/lambdas.py); it signs staff in through Cognito's public sign-in API, which needs no IAM
permission, and manages them on its Users page through the admin API: its role is allowed those actions
(USER_MANAGEMENT_ACTIONS) on this pool alone."""

from __future__ import annotations

from typing import Final

from aws_cdk import Duration, RemovalPolicy, aws_cognito, aws_iam, aws_lambda
from constructs import Construct

from infra.config import StageConfig
from shared.console_pool import (
    ACCESS_TOKEN_MINUTES,
    CHALLENGE_MINUTES,
    ENV_CONSOLE_CLIENT_ID,
    ENV_CONSOLE_USER_POOL_ID,
    PASSWORD_MIN_LENGTH,
    REFRESH_TOKEN_HOURS,
    TEMPORARY_PASSWORD_DAYS,
    USER_MANAGEMENT_ACTIONS,
)
from shared.domain.console_roles import Role

USER_POOL_ID: Final = "UserPool"
CLIENT_ID: Final = "ConsoleClient"
GROUP_PRECEDENCE: Final = {Role.ADMIN: 0, Role.COLLECTOR: 1, Role.VIEWER: 2}


class ConsoleSignIn(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: StageConfig,
        console_url: str,
        function: aws_lambda.Function,
    ) -> None:
        super().__init__(scope, construct_id)
        self._config = config
        self.user_pool = self._build_user_pool(console_url)
        self.client = self._build_client()
        self.groups = {role: self._build_group(role) for role in Role}
        function.add_environment(ENV_CONSOLE_CLIENT_ID, self.client.user_pool_client_id)
        function.add_environment(ENV_CONSOLE_USER_POOL_ID, self.user_pool.user_pool_id)

    def grant_user_management(self, grantee: aws_iam.IGrantable) -> None:
        """The Users page's admin calls, on this pool's ARN only."""
        self.user_pool.grant(grantee, *USER_MANAGEMENT_ACTIONS)

    def _build_user_pool(self, console_url: str) -> aws_cognito.UserPool:
        return aws_cognito.UserPool(
            self,
            USER_POOL_ID,
            user_pool_name=f"payportal-{self._config.stage}-console",
            self_sign_up_enabled=False,
            sign_in_aliases=aws_cognito.SignInAliases(email=True, username=False),
            sign_in_case_sensitive=False,
            auto_verify=aws_cognito.AutoVerifiedAttrs(email=True),
            mfa=aws_cognito.Mfa.REQUIRED,
            mfa_second_factor=aws_cognito.MfaSecondFactor(otp=True, sms=False),
            password_policy=aws_cognito.PasswordPolicy(
                min_length=PASSWORD_MIN_LENGTH,
                require_lowercase=True,
                require_uppercase=True,
                require_digits=True,
                require_symbols=True,
                temp_password_validity=Duration.days(TEMPORARY_PASSWORD_DAYS),
            ),
            # Threat protection (compromised credentials, adaptive authentication) is in the Plus tier.
            feature_plan=aws_cognito.FeaturePlan.PLUS,
            standard_threat_protection_mode=aws_cognito.StandardThreatProtectionMode.FULL_FUNCTION,
            # A forgotten password or a lost phone: an admin resets it (docs/operations.md), no self-service.
            account_recovery=aws_cognito.AccountRecovery.NONE,
            user_invitation=aws_cognito.UserInvitationConfig(
                email_subject="Your payportal console account",
                email_body=(
                    "You have been invited to the payportal console at "
                    f"{console_url}. Sign in with {{username}} and the temporary password {{####}} within "
                    f"{TEMPORARY_PASSWORD_DAYS} days; you will choose your own password and set up an "
                    "authenticator app."
                ),
            ),
            deletion_protection=self._config.is_prod,
            removal_policy=RemovalPolicy.RETAIN if self._config.is_prod else RemovalPolicy.DESTROY,
        )

    def _build_client(self) -> aws_cognito.UserPoolClient:
        # No secret: the client id is no credential, the password and TOTP are; a secret would live in Secrets
        # Manager only to compute SECRET_HASH on every call, and buy nothing a caller without the password lacks.
        return self.user_pool.add_client(
            CLIENT_ID,
            user_pool_client_name=f"payportal-{self._config.stage}-console",
            generate_secret=False,
            auth_flows=aws_cognito.AuthFlow(user_password=True),
            prevent_user_existence_errors=True,
            enable_token_revocation=True,
            access_token_validity=Duration.minutes(ACCESS_TOKEN_MINUTES),
            id_token_validity=Duration.minutes(ACCESS_TOKEN_MINUTES),
            refresh_token_validity=Duration.hours(REFRESH_TOKEN_HOURS),
            auth_session_validity=Duration.minutes(CHALLENGE_MINUTES),
            disable_o_auth=True,
        )

    def _build_group(self, role: Role) -> aws_cognito.CfnUserPoolGroup:
        return aws_cognito.CfnUserPoolGroup(
            self,
            f"{role.value.capitalize()}Group",
            user_pool_id=self.user_pool.user_pool_id,
            group_name=role.value,
            precedence=GROUP_PRECEDENCE[role],
            description=f"payportal console: {role.value}",
        )
