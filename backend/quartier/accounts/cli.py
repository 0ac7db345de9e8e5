"""Account commands: create-admin, create-token, revoke-token."""

from __future__ import annotations

import sys
from collections.abc import Awaitable, Callable
from typing import TypeVar
from uuid import UUID

import click
from sqlalchemy.ext.asyncio import AsyncSession

from quartier.accounts import services
from quartier.core.errors import Problem
from quartier.core.security import SCOPES, Role
from quartier.runtime import database, run_in_session
from quartier.settings import SettingsError, load_settings

T = TypeVar("T")


def _run(work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    try:
        settings = load_settings()
    except SettingsError as error:
        click.echo(str(error), err=True)
        sys.exit(2)
    with database(settings) as url:
        try:
            return run_in_session(url, work)
        except Problem as problem:
            click.echo(f"error: {problem.detail}", err=True)
            sys.exit(1)


@click.command("create-admin")
@click.option("--email", required=True)
@click.option("--name", "display_name", required=True, help="Display name.")
@click.option(
    "--role", type=click.Choice([r.value for r in Role]), default="admin", show_default=True
)
@click.option(
    "--password-stdin",
    is_flag=True,
    help="Read the password from standard input instead of prompting.",
)
def create_admin(email: str, display_name: str, role: str, password_stdin: bool) -> None:
    """Create a staff account (an administrator unless --role says otherwise)."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = click.prompt(
            "Password (12 characters or more)", hide_input=True, confirmation_prompt=True
        )

    async def work(session: AsyncSession) -> str:
        account = await services.create_account(
            session, email=email, display_name=display_name, role=Role(role), password=password
        )
        return f"created {account.role} {account.email} ({account.id})"

    click.echo(_run(work))


@click.command("create-token")
@click.option("--name", required=True, help="Which system uses the token.")
@click.option(
    "--scope",
    "scopes",
    multiple=True,
    required=True,
    type=click.Choice(sorted(SCOPES)),
    help="Repeat for several scopes.",
)
def create_token(name: str, scopes: tuple[str, ...]) -> None:
    """Create an API token and print it once (only its hash is kept)."""

    async def work(session: AsyncSession) -> str:
        token, secret = await services.create_token(
            session, name=name, scopes=scopes, created_by=None
        )
        click.echo(f"token {token.id} for {token.name}, scopes: {' '.join(token.scopes)}", err=True)
        return secret

    click.echo(_run(work))


@click.command("revoke-token")
@click.argument("token_id", type=click.UUID)
def revoke_token(token_id: UUID) -> None:
    """Revoke an API token by id."""

    async def work(session: AsyncSession) -> str:
        token = await services.revoke_token(session, token_id)
        return f"revoked {token.name} ({token.id})"

    click.echo(_run(work))


COMMANDS: list[click.Command] = [create_admin, create_token, revoke_token]
