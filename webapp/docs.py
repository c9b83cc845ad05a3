"""A readable API reference at /docs, rendered from the generated OpenAPI document."""

from flask import Blueprint, current_app, render_template

from .api.openapi import build_openapi

bp = Blueprint("docs", __name__)


@bp.get("/docs")
def api_docs():
    document = current_app.extensions.get("openapi_document") or build_openapi(current_app)
    current_app.extensions["openapi_document"] = document
    return render_template("docs.html", doc=document)
