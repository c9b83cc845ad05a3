"""flask commands: create-org, create-api-key, seed-demo, recount-resources."""

import click
import sqlalchemy as sa
from flask import Flask

from .extensions import db
from .models import Organization


def _org_by_name(name: str) -> Organization | None:
    return db.session.execute(sa.select(Organization).where(Organization.name == name)).scalars().first()


def register_commands(app: Flask) -> None:
    @app.cli.command("create-org")
    @click.option("--name", required=True, help="Organization name")
    @click.option("--owner-email", required=True)
    @click.option("--password", required=True, help="Owner's password (8+ characters)")
    def create_org(name: str, owner_email: str, password: str):
        """Create an organization and its owner account."""
        from .errors import AppError
        from .services import orgs

        try:
            org, user = orgs.sign_up(org_name=name, email=owner_email, password=password)
        except AppError as exc:
            raise click.ClickException(f"{exc.message} {exc.details or ''}".strip()) from None
        click.echo(f"Created organization {org.name} ({org.id}) owned by {user.email}")

    @app.cli.command("create-api-key")
    @click.option("--org", "org_name", required=True, help="Organization name or id")
    @click.option("--name", default="", help="A label for the key")
    def create_api_key(org_name: str, name: str):
        """Create an API key and print only the key."""
        from .services import keys

        org = db.session.get(Organization, org_name) or _org_by_name(org_name)
        if org is None:
            raise click.ClickException(f"No organization named {org_name!r}")
        _, plaintext = keys.create_key(org.id, name)
        click.echo(plaintext)

    @app.cli.command("seed-demo")
    def seed_demo():
        """A demo organization with agents and tasks (safe to run again)."""
        from .seed import seed_demo_data

        for line in seed_demo_data():
            click.echo(line)

    @app.cli.command("recount-resources")
    @click.option("--org", "org_name", default=None, help="Organization name or id (default: every organization)")
    @click.option("--check", is_flag=True, help="Only report counters that differ from the rows; exit 1 if any")
    def recount_resources(org_name: str | None, check: bool):
        """Rebuild the per-organization counts the lists' `total` reads (resource_counts) from the rows."""
        from .services import resource_counts

        org_id = None
        if org_name is not None:
            org = db.session.get(Organization, org_name) or _org_by_name(org_name)
            if org is None:
                raise click.ClickException(f"No organization named {org_name!r}")
            org_id = org.id
        differences = resource_counts.drift(org_id)
        for (org, resource, status), (stored, actual) in sorted(differences.items()):
            click.echo(f"{org} {resource} {status}: counted {stored}, rows {actual}")
        if check:
            if differences:
                raise SystemExit(1)
            click.echo("Counts match the rows")
            return
        written = resource_counts.recount(org_id)
        click.echo(f"Recounted: {written} counter rows written, {len(differences)} were off")
