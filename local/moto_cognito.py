"""moto's Cognito (cognito-idp) made to behave like Cognito where the console's sign-in depends on it.

moto 5.2.5 differs from Cognito in two ways that matter here:
- USER_PASSWORD_AUTH on a pool with MFA required (`MfaConfiguration=ON`) signs a user who has no TOTP yet
  straight in, with tokens; Cognito answers with the MFA_SETUP challenge. Patched: that user gets MFA_SETUP.
- every user's TOTP secret is one constant (`COGNITO_TOTP_MFA_SECRET`), so one enrolment's codes open every
  account; Cognito makes a secret per AssociateSoftwareToken. Patched: a random secret per call, kept on the
  user, and the codes of VerifySoftwareToken and of the SOFTWARE_TOKEN_MFA challenge checked against it.
moto 5.2.5 also lacks AdminDeleteSoftwareToken (Cognito's reset of a lost authenticator, which the console's
Users page calls): added, deleting the user's TOTP factor and preference, so their next sign-in with MFA
required is the MFA_SETUP challenge, as in Cognito.
moto checks codes only with MOTO_COGNITO_IDP_USER_POOL_ENABLE_TOTP=true: `install()` sets it (the stack and
the tests run moto in this process). Everything else is moto's own code, called as it is.

`install()` refuses a moto whose patched functions are not the ones this was written against (a digest of
each one's source), like local/moto_patches.py does for DynamoDB.
"""

from __future__ import annotations

import base64
import hashlib
import inspect
import os
import secrets
from collections.abc import Callable
from contextvars import ContextVar
from typing import Any

from moto.cognitoidp import models
from moto.cognitoidp.models import CognitoIdpBackend, UserStatus
from moto.cognitoidp.responses import CognitoIdpResponse
from moto.core.responses import ActionResult, EmptyResult

WRITTEN_AGAINST = "5.2.5"
SOURCE_SHA256 = {
    "initiate_auth": "b4ecd8a21bd445c7ed17d436c48a695960afe2aa4d824a4a0e29c1a99a5b7187",
    "associate_software_token": "e2b4bb99a2501701aa1c4a7125713933e1e8193bbb559a5fae8f2ee77f4b2e44",
    "verify_software_token": "e6c262e1768dcd4d9d05978e8cd729507cf6c11c241a35649f466ff69accf8dd",
    "respond_to_auth_challenge": "f534d52b883f212ee8a705f398765701ed69afde49634478b6713e38b67b8119",
}
_MARKER = "payportal_cognito_like"
_PENDING = "payportal_pending_totp_secret"
_ENROLLED = "payportal_totp_secret"

# The secret moto's `cognito_totp` is to use for the call in progress (None: moto's constant).
_secret_in_use: ContextVar[str | None] = ContextVar("secret_in_use", default=None)
_original: dict[str, Callable[..., Any]] = {}


class MotoChanged(RuntimeError):
    """moto's Cognito is not the shape this patch was written against."""


def _digest(function: Callable[..., Any]) -> str:
    return hashlib.sha256(inspect.getsource(function).encode()).hexdigest()


def _new_secret() -> str:
    return base64.b32encode(secrets.token_bytes(20)).decode().rstrip("=")  # 160 bits, as Cognito's


def _user_of_session(backend: CognitoIdpBackend, session: str) -> Any:
    found = backend.sessions.get(session)
    if found is None:
        return None
    username, pool = found
    return pool._get_user(username)


def _user_of_token(backend: CognitoIdpBackend, access_token: str) -> Any:
    for pool in backend.user_pools.values():
        if access_token in pool.access_tokens:
            return pool._get_user(pool.access_tokens[access_token][1])
    return None


def _initiate_auth(self: CognitoIdpBackend, client_id: str, auth_flow: str, auth_parameters: dict[str, str]) -> Any:
    if auth_flow == "USER_PASSWORD_AUTH":
        pool = next((p for p in self.user_pools.values() if client_id in p.clients), None)
        username = auth_parameters.get("USERNAME") or ""
        user = pool._get_user(username) if pool is not None and pool.mfa_config == "ON" else None
        if (
            pool is not None
            and user is not None
            and user.enabled
            and user.password == auth_parameters.get("PASSWORD")
            and user.status == UserStatus.CONFIRMED
            and not user.token_verified
            and not user.sms_mfa_enabled
        ):
            session = secrets.token_urlsafe(32)
            self.sessions[session] = (username, pool)
            return {
                "ChallengeName": "MFA_SETUP",
                "ChallengeParameters": {"MFAS_CAN_SETUP": '["SOFTWARE_TOKEN_MFA"]'},
                "Session": session,
            }
    return _original["initiate_auth"](self, client_id, auth_flow, auth_parameters)


def _associate_software_token(self: CognitoIdpBackend, access_token: str, session: str) -> Any:
    reply = dict(_original["associate_software_token"](self, access_token, session))
    user = _user_of_session(self, session) if session else _user_of_token(self, access_token)
    if user is not None:
        secret = _new_secret()
        setattr(user, _PENDING, secret)
        reply["SecretCode"] = secret
    return reply


def _verify_software_token(
    self: CognitoIdpBackend, access_token: str, session: str, user_code: str, friendly_device_name: str
) -> Any:
    user = _user_of_session(self, session) if session else _user_of_token(self, access_token)
    pending = getattr(user, _PENDING, None) if user is not None else None
    if user is not None and pending is None:
        raise models.NotAuthorizedError("no software token was associated")
    token = _secret_in_use.set(pending)
    try:
        reply = _original["verify_software_token"](self, access_token, session, user_code, friendly_device_name)
    finally:
        _secret_in_use.reset(token)
    if user is not None:
        setattr(user, _ENROLLED, pending)
        setattr(user, _PENDING, None)
    return reply


def _respond_to_auth_challenge(
    self: CognitoIdpBackend, session: str, client_id: str, challenge_name: str, challenge_responses: dict[str, str]
) -> Any:
    secret = None
    if challenge_name == "SOFTWARE_TOKEN_MFA":
        user = _user_of_session(self, session)
        secret = getattr(user, _ENROLLED, None) if user is not None else None
        if user is not None and secret is None:
            raise models.NotAuthorizedError("no software token was verified")
    token = _secret_in_use.set(secret)
    try:
        return _original["respond_to_auth_challenge"](self, session, client_id, challenge_name, challenge_responses)
    finally:
        _secret_in_use.reset(token)


def _admin_delete_software_token(self: CognitoIdpBackend, user_pool_id: str, username: str) -> None:
    user = self.admin_get_user(user_pool_id, username)
    user.token_verified = False
    user.software_token_mfa_enabled = False
    if user.preferred_mfa_setting == "SOFTWARE_TOKEN_MFA":
        user.preferred_mfa_setting = ""
    setattr(user, _ENROLLED, None)
    setattr(user, _PENDING, None)


def _admin_delete_software_token_response(self: CognitoIdpResponse) -> ActionResult:
    _admin_delete_software_token(self.backend, self._get_param("UserPoolId"), self._get_param("Username"))
    return EmptyResult()


def _cognito_totp(key: str) -> Any:
    return _original["cognito_totp"](_secret_in_use.get() or key)


_PATCHES: dict[str, Callable[..., Any]] = {
    "initiate_auth": _initiate_auth,
    "associate_software_token": _associate_software_token,
    "verify_software_token": _verify_software_token,
    "respond_to_auth_challenge": _respond_to_auth_challenge,
}


def check(expected: dict[str, str] = SOURCE_SHA256) -> None:
    for name in _PATCHES:
        function = _original.get(name) or getattr(CognitoIdpBackend, name)
        if _digest(function) != expected[name]:
            raise MotoChanged(
                f"moto's CognitoIdpBackend.{name} is not moto {WRITTEN_AGAINST}'s: read local/moto_cognito.py, "
                "port what changed, then update SOURCE_SHA256"
            )


def install() -> None:
    """Patch moto's Cognito in this process (idempotent)."""
    os.environ["MOTO_COGNITO_IDP_USER_POOL_ENABLE_TOTP"] = "true"
    if getattr(CognitoIdpBackend.initiate_auth, _MARKER, False):
        return
    check()
    _original["cognito_totp"] = models.cognito_totp
    models.cognito_totp = _cognito_totp
    for name, patch in _PATCHES.items():
        _original[name] = getattr(CognitoIdpBackend, name)
        setattr(patch, _MARKER, True)
        setattr(CognitoIdpBackend, name, patch)
    if not hasattr(CognitoIdpResponse, "admin_delete_software_token"):  # a moto that has it keeps its own
        CognitoIdpBackend.admin_delete_software_token = _admin_delete_software_token  # type: ignore[attr-defined]
        CognitoIdpResponse.admin_delete_software_token = _admin_delete_software_token_response  # type: ignore[attr-defined]
