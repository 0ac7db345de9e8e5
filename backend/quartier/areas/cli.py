"""Commands of this domain for the `quartier` CLI."""

from __future__ import annotations

import click

COMMANDS: list[click.Command] = []
