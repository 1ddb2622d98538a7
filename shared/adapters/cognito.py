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

from shared.services.console_ports import Challenge, SignedIn, SignInRefused, TotpSetup, WeakPassword

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
