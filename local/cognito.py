"""The console's user pool in moto, as CDK builds it in AWS (infra/components/console.py), and its staff.

`make dev` seeds one user per role with PAYPORTAL_LOCAL_CONSOLE_PASSWORD; each enrols TOTP on its first
sign-in, as in AWS (moto behaves like Cognito there once local/moto_cognito.py is installed).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

from shared.console_pool import AUTH_FLOWS, PASSWORD_POLICY
from shared.domain.console_roles import Role

DEFAULT_CONSOLE_PASSWORD: Final = "Local-Console-2027!"
STAFF: Final = {f"{role.value}@payportal.local": role for role in (Role.ADMIN, Role.COLLECTOR, Role.VIEWER)}


@dataclass(frozen=True, slots=True)
class ConsolePool:
    user_pool_id: str
    client_id: str


def provision(idp: Any, name: str) -> ConsolePool:
    """A pool with TOTP required, no self sign-up, emails as user names; an app client with no secret; a group
    per role."""
    pool = idp.create_user_pool(
        PoolName=name,
        Policies={"PasswordPolicy": PASSWORD_POLICY},
        UsernameAttributes=["email"],
        AdminCreateUserConfig={"AllowAdminCreateUserOnly": True},
        MfaConfiguration="ON",
    )["UserPool"]
    idp.set_user_pool_mfa_config(
        UserPoolId=pool["Id"], SoftwareTokenMfaConfiguration={"Enabled": True}, MfaConfiguration="ON"
    )
    client = idp.create_user_pool_client(
        UserPoolId=pool["Id"],
        ClientName=f"{name}-console",
        GenerateSecret=False,
        ExplicitAuthFlows=list(AUTH_FLOWS),
        PreventUserExistenceErrors="ENABLED",
    )["UserPoolClient"]
    for role in Role:
        idp.create_group(UserPoolId=pool["Id"], GroupName=role.value)
    return ConsolePool(user_pool_id=pool["Id"], client_id=client["ClientId"])


def add_staff(idp: Any, pool: ConsolePool, email: str, role: Role, password: str) -> None:
    """A confirmed user with this password (no invitation email, no temporary password) in the role's group."""
    idp.admin_create_user(
        UserPoolId=pool.user_pool_id,
        Username=email,
        UserAttributes=[{"Name": "email", "Value": email}, {"Name": "email_verified", "Value": "true"}],
        MessageAction="SUPPRESS",
    )
    idp.admin_set_user_password(UserPoolId=pool.user_pool_id, Username=email, Password=password, Permanent=True)
    idp.admin_add_user_to_group(UserPoolId=pool.user_pool_id, Username=email, GroupName=role.value)


def seed_staff(idp: Any, pool: ConsolePool, password: str) -> None:
    for email, role in STAFF.items():
        add_staff(idp, pool, email, role, password)
