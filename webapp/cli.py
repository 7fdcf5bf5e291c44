"""Command-line tools: ``flask --app wsgi users|audit|keys|reminders|sms|emergency ...``."""

from __future__ import annotations

import secrets
import sys
from datetime import timedelta

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from .accounts.errors import AccountError
from .accounts.passwords import MAX_LENGTH, MIN_LENGTH, is_common
from .accounts.services import create_account
from .audit.services import verify_chain
from .cameras.renewal import run_camera_reminders
from .crypto import generate_key, rotate_keys
from .dispatch.relay import escalate_due, lapse_stale, recover, release_stranded
from .jobs import run as run_worker
from .models import Role
from .models.types import utcnow
from .phones import InvalidPhoneNumber, to_e164
from .profiles.freshness import run_reminders
from .sms_inbound.spool import import_all

users = AppGroup("users", help="Manage accounts.")
audit = AppGroup("audit", help="Inspect the audit log.")
keys = AppGroup("keys", help="Manage the encryption keys of sensitive fields.")
reminders = AppGroup("reminders", help="Profile freshness and camera renewal reminders.")
sms = AppGroup("sms", help="The SMS channel.")
emergency = AppGroup("emergency", help="The emergency text relay (the SMS worker also does this).")


@users.command("create")
@click.option("--role", type=click.Choice([r.value for r in Role]), required=True)
@click.option("--phone", required=True, help="Mobile number; stored in E.164.")
@click.option("--locale", default="en", show_default=True)
@click.option("--generate-password", is_flag=True, help="Generate a password and print it once.")
def create_user(role: str, phone: str, locale: str, generate_password: bool) -> None:
    """Create a staff account (or a resident) with a password prompted or generated."""
    try:
        e164 = to_e164(phone, current_app.config["SMS_DEFAULT_REGION"])
    except InvalidPhoneNumber:
        raise click.BadParameter("not a valid phone number", param_hint="--phone") from None
    if generate_password:
        password = secrets.token_urlsafe(18)
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
        if not MIN_LENGTH <= len(password) <= MAX_LENGTH or is_common(password):
            raise click.ClickException(
                f"the password must be {MIN_LENGTH} to {MAX_LENGTH} characters and not common"
            )
    try:
        user = create_account(phone=e164, role=Role(role), password=password, locale=locale)
    except AccountError as error:
        raise click.ClickException(str(error.message)) from None
    click.echo(f"Created user {user.id} with role {user.role}.")
    if generate_password:
        click.echo(f"Password (shown once, store it safely): {password}")


@audit.command("verify")
def audit_verify() -> None:
    """Recompute the audit log's hash chain; exit 1 at the first row that does not match."""
    report = verify_chain()
    if report.ok:
        click.echo(f"Audit log intact: {report.checked} events checked.")
        return
    click.echo(
        f"Audit log BROKEN at event {report.first_bad_id} "
        f"({report.checked} events before it are intact).",
        err=True,
    )
    sys.exit(1)


@keys.command("generate")
def keys_generate() -> None:
    """Print a new key. Put it FIRST in ENCRYPTION_KEYS, keep the old ones, then rotate."""
    click.echo(generate_key())


@keys.command("rotate")
def keys_rotate() -> None:
    """Re-encrypt every sensitive field under the first key of ENCRYPTION_KEYS."""
    changed = rotate_keys()
    click.echo(f"Re-encrypted {changed} values under the newest key.")


@reminders.command("run")
def reminders_run() -> None:
    """Send the profile and camera-renewal reminders that are due (idempotent: run it from a
    scheduler, e.g. hourly)."""
    for name, counts in (("Profile", run_reminders()), ("Camera", run_camera_reminders())):
        click.echo(
            f"{name} reminders: {counts['sent']} sent, {counts['suppressed']} not sent (STOP), "
            f"{counts['skipped']} skipped."
        )


@sms.command("worker")
@click.option("--once", is_flag=True, help="Send what is due now, then exit.")
def sms_worker(once: bool) -> None:
    """Send queued texts with retries, run the emergency relay's timers and import the
    spool (runs until stopped)."""
    sent = run_worker(once=once)
    click.echo(f"Handled {sent} messages.")


@sms.command("import-spool")
def sms_import_spool() -> None:
    """Store and act on texts received while the database was down (exactly once)."""
    click.echo(f"Imported {import_all()} spooled messages.")


@emergency.command("escalate")
def emergency_escalate() -> None:
    """Escalate sessions nobody claimed in time, put back those whose dispatcher left, close
    those long left unclaimed (idempotent: the SMS worker runs this every round)."""
    escalated, released, lapsed = escalate_due(), release_stranded(), lapse_stale()
    click.echo(
        f"Escalated {escalated} sessions; released {released} whose dispatcher left; "
        f"{lapsed} lapsed unclaimed."
    )


@emergency.command("recover")
@click.option("--hours", type=click.IntRange(min=1), default=24, show_default=True,
              help="Look at texts received this many hours back.")  # fmt: skip
def emergency_recover(hours: int) -> None:
    """File stored emergency texts that reached no session (after a failure), at the time
    they arrived (idempotent)."""
    filed = recover(since=utcnow() - timedelta(hours=hours))
    click.echo(f"Recovered {filed} emergency texts.")


def init_cli(app: Flask) -> None:
    for group in (users, audit, keys, reminders, sms, emergency):
        app.cli.add_command(group)
