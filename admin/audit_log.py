"""The audit log page: every change staff made, newest first."""
from __future__ import annotations

from flask import render_template, request

from admin.web import bp, database
from shop import audit

PER_PAGE = 50


@bp.get("/audit")
def audit_page():
    try:
        page = max(1, int(request.args.get("page", 1)))
    except ValueError:
        page = 1
    subject = (request.args.get("subject") or "").strip()[:64] or None
    with database().session() as session:
        rows, total = audit.entries(session, subject_key=subject, page=page, per_page=PER_PAGE)
    pages = max(1, -(-total // PER_PAGE))
    return render_template("admin/audit.html", rows=rows, page=page, pages=pages, subject=subject or "")
