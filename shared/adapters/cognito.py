"""The staff directory over Cognito user pools (botocore's cognito-idp), for the console's server-side sign-in.

USER_PASSWORD_AUTH from the console function (the password travels over TLS to our function, then to
Cognito), an app client without a secret (docs/decisions.md). The ID token is read, not verified: it comes
straight from Cognito's endpoint over TLS in the reply to our own call, never from a browser.
"""

from __future__ import annotations

import base64
import contextlib
import json
from typing import Any

from shared.domain.errors import NotFound
from shared.services.console_ports import (
    Challenge,
    SignedIn,
    SignInRefused,
    StaffMember,
    StaffMemberExists,
    TotpSetup,
    WeakPassword,
)

# Cognito errors that mean "not this password, code or session": the page says only that sign-in failed.
_REFUSALS = frozenset(
    {
        "NotAuthorizedException",
        "UserNotFoundException",
        "CodeMismatchException",
        "ExpiredCodeException",
        "EnableSoftwareTokenMFAException",
        "ResourceNotFoundException",  # a challenge session Cognito no longer knows
        "UserNotConfirmedException",
        "PasswordResetRequiredException",
        "TooManyRequestsException",
        "TooManyFailedAttemptsException",
        "LimitExceededException",
        "InvalidParameterException",  # what was typed is no user name Cognito can take
    }
)


class CognitoStaffDirectory:
    def __init__(self, client: Any, client_id: str) -> None:
        self._idp = client
        self._client_id = client_id

    def start_password(self, username: str, password: str) -> Challenge | SignedIn:
        reply = self._call(
            "initiate_auth",
            ClientId=self._client_id,
            AuthFlow="USER_PASSWORD_AUTH",
            AuthParameters={"USERNAME": username, "PASSWORD": password},
        )
        return _outcome(reply)

    def answer_new_password(self, username: str, session: str, new_password: str) -> Challenge | SignedIn:
        reply = self._call(
            "respond_to_auth_challenge",
            ClientId=self._client_id,
            ChallengeName="NEW_PASSWORD_REQUIRED",
            Session=session,
            ChallengeResponses={"USERNAME": username, "NEW_PASSWORD": new_password},
        )
        return _outcome(reply)

    def begin_totp_setup(self, session: str) -> TotpSetup:
        reply = self._call("associate_software_token", Session=session)
        return TotpSetup(secret=reply["SecretCode"], session=reply.get("Session") or session)

    def finish_totp_setup(self, username: str, session: str, code: str) -> Challenge | SignedIn:
        verified = self._call(
            "verify_software_token", Session=session, UserCode=code, FriendlyDeviceName="payportal console"
        )
        if verified.get("Status") != "SUCCESS":
            raise SignInRefused("the code did not match")
        reply = self._call(
            "respond_to_auth_challenge",
            ClientId=self._client_id,
            ChallengeName="MFA_SETUP",
            Session=verified.get("Session") or session,
            ChallengeResponses={"USERNAME": username},
        )
        return _outcome(reply)

    def answer_totp(self, username: str, session: str, code: str) -> Challenge | SignedIn:
        reply = self._call(
            "respond_to_auth_challenge",
            ClientId=self._client_id,
            ChallengeName="SOFTWARE_TOKEN_MFA",
            Session=session,
            ChallengeResponses={"USERNAME": username, "SOFTWARE_TOKEN_MFA_CODE": code},
        )
        return _outcome(reply)

    def sign_out(self, access_token: str) -> None:
        # NotAuthorized: the tokens had already ended (expired, or signed out elsewhere).
        with contextlib.suppress(self._idp.exceptions.NotAuthorizedException):
            self._idp.global_sign_out(AccessToken=access_token)

    def _call(self, operation: str, **kwargs: Any) -> dict[str, Any]:
        try:
            reply: dict[str, Any] = getattr(self._idp, operation)(**kwargs)
        except self._idp.exceptions.ClientError as error:
            code = error.response.get("Error", {}).get("Code", "")
            if code in ("InvalidPasswordException",):
                raise WeakPassword(error.response["Error"].get("Message", "password too weak")) from None
            if code in _REFUSALS:
                raise SignInRefused(code) from None
            raise
        return reply


class CognitoStaffAccounts:
    """The Users page's calls: Cognito's admin API on the console's own pool (IAM-authorized, so the console
    function's role is allowed exactly these actions on this pool: infra/stack.py)."""

    def __init__(self, client: Any, user_pool_id: str) -> None:
        self._idp = client
        self._pool = user_pool_id

    def list_members(self, limit: int) -> list[StaffMember]:
        groups: dict[str, list[str]] = {}
        for group in self._pages("list_groups", "Groups", limit):
            for user in self._pages("list_users_in_group", "Users", limit, GroupName=group["GroupName"]):
                groups.setdefault(user["Username"], []).append(group["GroupName"])
        users = self._pages("list_users", "Users", limit)
        return [_member(user, user.get("Attributes", []), groups.get(user["Username"], [])) for user in users]

    def get_member(self, username: str) -> StaffMember:
        user = self._admin("admin_get_user", username)
        listed = self._admin("admin_list_groups_for_user", username)
        return _member(user, user.get("UserAttributes", []), [g["GroupName"] for g in listed.get("Groups", [])])

    def invite(self, email: str, group: str) -> StaffMember:
        try:
            created = self._idp.admin_create_user(
                UserPoolId=self._pool,
                Username=email,
                UserAttributes=[{"Name": "email", "Value": email}, {"Name": "email_verified", "Value": "true"}],
                DesiredDeliveryMediums=["EMAIL"],
            )["User"]
        except self._idp.exceptions.UsernameExistsException:
            raise StaffMemberExists("that email address already has a console account", field="email") from None
        except self._idp.exceptions.InvalidParameterException:
            raise StaffMemberExists("Cognito cannot take that email address", field="email") from None
        self._admin("admin_add_user_to_group", created["Username"], GroupName=group)
        return _member(created, created.get("Attributes", []), [group])

    def set_group(self, username: str, group: str, *, drop: tuple[str, ...]) -> None:
        held = {g["GroupName"] for g in self._admin("admin_list_groups_for_user", username).get("Groups", [])}
        if group not in held:
            self._admin("admin_add_user_to_group", username, GroupName=group)
        for other in sorted(held & set(drop) - {group}):
            self._admin("admin_remove_user_from_group", username, GroupName=other)

    def set_enabled(self, username: str, enabled: bool) -> None:
        self._admin("admin_enable_user" if enabled else "admin_disable_user", username)

    def reset_mfa(self, username: str) -> None:
        # Not AdminSetUserMFAPreference: it leaves the TOTP factor registered, and Cognito keeps asking for it.
        with contextlib.suppress(self._idp.exceptions.InvalidParameterException):  # no factor: nothing to delete
            self._admin("admin_delete_software_token", username)

    def sign_out_everywhere(self, username: str) -> None:
        self._admin("admin_user_global_sign_out", username)

    def _admin(self, operation: str, username: str, **kwargs: Any) -> dict[str, Any]:
        try:
            reply: dict[str, Any] = getattr(self._idp, operation)(UserPoolId=self._pool, Username=username, **kwargs)
        except self._idp.exceptions.UserNotFoundException:
            raise NotFound("no such console user", field="username") from None
        return reply

    def _pages(self, operation: str, key: str, limit: int, **kwargs: Any) -> list[dict[str, Any]]:
        """Every item of a listing, up to `limit`, following Cognito's NextToken (PaginationToken for users)."""
        token_name = "PaginationToken" if operation == "list_users" else "NextToken"
        found: list[dict[str, Any]] = []
        token: str | None = None
        while len(found) < limit:
            page_size = {"Limit": min(60, limit - len(found))}
            reply = getattr(self._idp, operation)(UserPoolId=self._pool, **page_size, **kwargs,
                                                  **({token_name: token} if token else {}))  # fmt: skip
            found.extend(reply.get(key, []))
            token = reply.get(token_name)
            if not token:
                break
        return found[:limit]


def _member(user: dict[str, Any], attributes: list[dict[str, str]], groups: list[str]) -> StaffMember:
    values = {a["Name"]: a["Value"] for a in attributes}
    return StaffMember(
        username=user["Username"], email=values.get("email", ""), groups=tuple(sorted(groups)),
        enabled=bool(user.get("Enabled", True)), status=str(user.get("UserStatus", "")),
    )  # fmt: skip


def _outcome(reply: dict[str, Any]) -> Challenge | SignedIn:
    result = reply.get("AuthenticationResult")
    if result:
        claims = _claims(result["IdToken"])
        return SignedIn(
            access_token=result["AccessToken"],
            staff_id=str(claims.get("sub", "")),
            email=str(claims.get("email", "")),
            groups=tuple(str(g) for g in claims.get("cognito:groups", ())),
        )
    return Challenge(name=reply["ChallengeName"], session=reply["Session"])


def _claims(jwt: str) -> dict[str, Any]:
    payload = jwt.split(".")[1]
    claims: dict[str, Any] = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    return claims
