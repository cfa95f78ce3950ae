"""The web pages of Loket: server-rendered Jinja2 templates for staff, supervisors,
administrators, the inspectorate and the public (see docs/web.md)."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from loket.web import (
    admin_pages,
    complaint_pages,
    document_pages,
    notify_pages,
    payment_pages,
    performance_pages,
    permit_pages,
    public_pages,
    staff_pages,
)
from loket.web.core import STATIC, WebSettings
from loket.web.security import SecurityHeaders

STATIC_PATH = "/static"


def install(app: FastAPI, web_settings: WebSettings | None = None) -> None:
    """Add the pages, their static files and the security headers to ``app``."""
    app.state.web_settings = web_settings or WebSettings()
    app.include_router(public_pages.router)
    app.include_router(staff_pages.router)
    app.include_router(admin_pages.router)
    app.include_router(complaint_pages.router)
    app.include_router(performance_pages.router)
    app.include_router(payment_pages.router)
    app.include_router(document_pages.router)  # 10A
    app.include_router(permit_pages.router)  # issued permits (issue 10 §2)
    app.include_router(notify_pages.router)
    app.mount(STATIC_PATH, StaticFiles(directory=STATIC), name="static")
    app.add_middleware(SecurityHeaders)
