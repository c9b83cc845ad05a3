"""The dashboard's blueprint, in a module of its own so the view modules import it without importing
the package that imports them (no cycle)."""

from flask import Blueprint

bp = Blueprint("dashboard", __name__)
