"""The console's Cognito user pool settings: one source for CDK (infra/components/console.py), the local
stack's moto pool (local/cognito.py) and the tests."""

from __future__ import annotations

from typing import Final

PASSWORD_MIN_LENGTH: Final = 14
TEMPORARY_PASSWORD_DAYS: Final = 3  # an invitation's password works this long
PASSWORD_POLICY: Final = {
    "MinimumLength": PASSWORD_MIN_LENGTH,
    "RequireUppercase": True,
    "RequireLowercase": True,
    "RequireNumbers": True,
    "RequireSymbols": True,
    "TemporaryPasswordValidityDays": TEMPORARY_PASSWORD_DAYS,
}
# The console function signs in from the server: the password flow, and refresh (never used for pages).
AUTH_FLOWS: Final = ("ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH")
ACCESS_TOKEN_MINUTES: Final = 60
CHALLENGE_MINUTES: Final = 3  # a sign-in's challenge session (shared.domain.console_session.CHALLENGE_TIMEOUT)
REFRESH_TOKEN_HOURS: Final = 12  # the console session's lifetime cap (shared.domain.console_session)
ENV_CONSOLE_CLIENT_ID: Final = "PAYPORTAL_CONSOLE_CLIENT_ID"
ENV_CONSOLE_USER_POOL_ID: Final = "PAYPORTAL_CONSOLE_USER_POOL_ID"
# The Users page's calls (shared.adapters.cognito.CognitoStaffAccounts): the console function's role may make
# exactly these, on its own pool only. Cognito's sign-in API (InitiateAuth...) needs no IAM permission.
USER_MANAGEMENT_ACTIONS: Final = tuple(
    f"cognito-idp:{action}"
    for action in (
        "ListUsers", "ListGroups", "ListUsersInGroup", "AdminGetUser", "AdminListGroupsForUser", "AdminCreateUser",
        "AdminAddUserToGroup", "AdminRemoveUserFromGroup", "AdminDisableUser", "AdminEnableUser",
        "AdminDeleteSoftwareToken", "AdminUserGlobalSignOut",
    )
)  # fmt: skip
