"""What every page shares: the request's context (user, language, CSRF token), role checks,
rendering with autoescaped Jinja2 templates, and HTML error pages.

Security model (docs/web.md tells the whole story):
- A page's user comes only from the session cookie (HttpOnly, SameSite=Lax, Secure over
  https or when configured); roles are checked on the server by :class:`PageRole`.
- Every POST form carries ``csrf_token``: an HMAC of the session cookie (signed in) or of a
  random anonymous cookie (public forms), keyed with the app's secret. A POST without the
  right token is refused before anything happens.
- Templates autoescape everything; nothing user-written is ever marked safe.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
import secrets
from collections.abc import Callable, Coroutine, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar
from urllib.parse import quote

from fastapi import Depends, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.routing import APIRoute
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from pydantic import BaseModel, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict
from starlette.datastructures import FormData

from loket.edge.errors import ApiError, http_error
from loket.edge.errors import Invalid as ApiInvalid
from loket.edge.field_messages import field_message
from loket.edge.messages import message
from loket.edge.params import IDEMPOTENCY_KEY_PATTERN
from loket.services import Invalid, Services, User, utcnow
from loket.services.auth import session_user
from loket.services.fields import field_code
from loket.web import format as fmt
from loket.web import i18n
from loket.web.readable import Readable

log = logging.getLogger(__name__)

SESSION_COOKIE = "loket_session"
ANON_COOKIE = "loket_anon"
LANG_COOKIE = "loket_lang"
CSRF_FIELD = "csrf_token"
NONCE_FIELD = "idempotency_key"  # rendered into every form that changes something
LOGIN_PATH = "/login"
LANG_COOKIE_DAYS = 365

TEMPLATES = Path(__file__).parent / "templates"
STATIC = Path(__file__).parent / "static"


class WebSettings(BaseSettings):
    """Settings of the web pages only (prefix ``LOKET_WEB_``)."""

    model_config = SettingsConfigDict(env_prefix="LOKET_WEB_", env_file=None, extra="ignore")

    # auto: Secure when the request came over https (uvicorn reads X-Forwarded-Proto from
    # its trusted proxies); always: behind a TLS proxy that does not say so; never: local.
    cookie_secure: Literal["auto", "always", "never"] = "auto"


def _environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(["html", "svg"], default=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(fmt.FILTERS)
    return env


JINJA = _environment()


# --- errors pages know how to answer -------------------------------------------------------


class LoginRequired(Exception):
    """No (valid) session: the page answers with a redirect to the sign-in form."""


class PageForbidden(ApiError):
    status_code = 403
    default_code = "forbidden"


class CsrfRefused(ApiError):
    status_code = 403
    default_code = "csrf_refused"


# --- the context of a request ------------------------------------------------------------


@dataclass
class Page:
    """One request's view of the site: who, in which language, and its CSRF token."""

    request: Request
    services: Services
    user: User | None
    lang: str
    csrf: str
    session_token: str | None
    set_cookies: dict[str, tuple[str, int | None]] = field(default_factory=dict)

    @property
    def secure_cookies(self) -> bool:
        mode = self.request.app.state.web_settings.cookie_secure
        return mode == "always" or (mode == "auto" and self.request.url.scheme == "https")

    def t(self, text: str) -> str:
        return i18n.translate(text, self.lang)

    def say(self, error: ApiError) -> str:
        """An error's message in the visitor's language (catalogs keyed by code), naming
        steps and outcomes in words rather than by their ids."""
        reg = str(error.params.get("registration_number") or "") or str(
            self.request.path_params.get("registration_number") or ""
        )
        readable = Readable(self.services.catalog, self.lang, self.services.calendar.tz)
        return message(error.code, readable.params(error.params, reg), self.lang)

    def answer(self, exc: Exception, *statuses: int) -> ApiError:
        """What a use case raised as the page's answer, if its status is one of
        ``statuses`` (the ones the page shows in place); anything else propagates to
        :class:`PageRoute` (an error page, or a real bug)."""
        error = http_error(exc)
        if error is None or error.status_code not in statuses:
            raise exc
        return error

    @staticmethod
    def nonce() -> str:
        """A fresh key for one rendered form: submitting that form twice acts once."""
        return secrets.token_urlsafe(16)

    def has_role(self, *roles: str) -> bool:
        return self.user is not None and self.user.role in roles

    def cookie(self, name: str, value: str, max_age: int | None = None) -> None:
        """Set a cookie on whatever response this request ends with."""
        self.set_cookies[name] = (value, max_age)

    def apply_cookies(self, response: Response) -> Response:
        for name, (value, max_age) in self.set_cookies.items():
            if value == "":
                response.delete_cookie(
                    name, httponly=True, samesite="lax", secure=self.secure_cookies
                )
            else:
                response.set_cookie(
                    name,
                    value,
                    max_age=max_age,
                    httponly=True,
                    samesite="lax",
                    secure=self.secure_cookies,
                    path="/",
                )
        return response

    def render(self, template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
        tz = self.services.calendar.tz
        html = JINJA.get_template(template).render(
            page=self,
            _=self.t,
            now=utcnow(),
            when=lambda value: fmt.when(value, tz),
            event_label=lambda event: i18n.event_label(event, self.lang),
            r=Readable(self.services.catalog, self.lang, tz),
            **context,
        )
        response = HTMLResponse(html, status_code=status_code)
        response.headers["Cache-Control"] = "no-store"
        self.apply_cookies(response)
        return response

    def redirect(self, url: str) -> Response:
        return self.apply_cookies(RedirectResponse(url, status_code=303))


def csrf_token(services: Services, cookie_value: str) -> str:
    key = services.settings.secret_key.get_secret_value().encode()
    return hmac.new(key, b"csrf:" + cookie_value.encode(), hashlib.sha256).hexdigest()


def get_services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


async def get_page(request: Request) -> Page:
    services = get_services(request)
    lang = i18n.pick(request.cookies.get(LANG_COOKIE), request.headers.get("accept-language"))
    session = request.cookies.get(SESSION_COOKIE)
    user = None
    if session:
        user = await session_user(services, session)
    pending: dict[str, tuple[str, int | None]] = {}
    if user is not None and session is not None:
        anchor = session
    else:
        session = None
        anchor = request.cookies.get(ANON_COOKIE) or ""
        if not anchor:
            # First visit: the anonymous cookie anchors the CSRF token of public forms.
            anchor = secrets.token_urlsafe(24)
            pending[ANON_COOKIE] = (anchor, None)
    page = Page(
        request=request,
        services=services,
        user=user,
        lang=lang,
        csrf=csrf_token(services, anchor),
        session_token=session,
        set_cookies=pending,
    )
    request.state.page = page
    return page


PageDep = Annotated[Page, Depends(get_page)]


async def check_csrf(page: Page) -> FormData:
    """The POSTed form, once its CSRF token matches this session's (else 403)."""
    form = await page.request.form()
    sent = form.get(CSRF_FIELD)
    if not isinstance(sent, str) or not hmac.compare_digest(sent, page.csrf):
        log.warning("CSRF token refused on %s", page.request.url.path)
        raise CsrfRefused()
    return form


async def get_checked_form(page: PageDep) -> FormData:
    return await check_csrf(page)


CheckedForm = Annotated[FormData, Depends(get_checked_form)]


class PageRole:
    """Dependency: the page, if someone with one of ``roles`` is signed in.

    Anonymous visitors are sent to the sign-in form; other roles get a 403 page.
    """

    def __init__(self, *roles: str) -> None:
        self.roles = roles

    async def __call__(self, page: PageDep) -> Page:
        if page.user is None:
            raise LoginRequired()
        if page.user.role not in self.roles:
            raise PageForbidden(f"this page needs the role {' or '.join(self.roles)}")
        return page


StaffPage = Annotated[Page, Depends(PageRole("staff", "supervisor"))]
TaskReaderPage = Annotated[Page, Depends(PageRole("staff", "supervisor", "admin", "inspector"))]
SupervisorPage = Annotated[Page, Depends(PageRole("supervisor"))]
AuditReaderPage = Annotated[Page, Depends(PageRole("admin", "inspector"))]
AdminPage = Annotated[Page, Depends(PageRole("admin"))]
SignedInPage = Annotated[Page, Depends(PageRole("staff", "supervisor", "admin", "inspector"))]


def safe_next(url: str | None, default: str) -> str:
    """Only a path on this site: never an open redirect to another host."""
    if url and url.startswith("/") and not url.startswith("//") and "\\" not in url:
        return url
    return default


class PageRoute(APIRoute):
    """A page's errors answer as HTML: sign-in redirect, or an error page with the reason."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def page_handler(request: Request) -> Response:
            try:
                return await handler(request)
            except LoginRequired:
                target = request.url.path if request.method == "GET" else "/"
                return RedirectResponse(f"{LOGIN_PATH}?next={quote(target)}", status_code=303)
            except RequestValidationError as exc:
                # A path that names nothing (a NUL, a malformed number): as if not there.
                in_path = any(e.get("loc", ("",))[0] == "path" for e in exc.errors())
                if in_path:
                    return error_page(request, NotFoundPage())
                return error_page(request, ApiInvalid("invalid_request", fields="form"))
            except Exception as exc:
                # A use case's error (service error, refusal, bad form) or a fault.
                error = http_error(exc)
                if error is None:
                    raise
                return error_page(request, error)

        return page_handler


class NotFoundPage(ApiError):
    status_code = 404
    default_code = "not_found"


def _language(request: Request) -> str:
    return i18n.pick(request.cookies.get(LANG_COOKIE), request.headers.get("accept-language"))


def error_page(request: Request, error: ApiError) -> Response:
    page: Page | None = getattr(request.state, "page", None)
    status_code = error.status_code
    if page is None:  # failed before the context was built (e.g. the database is down)
        lang = _language(request)
        html = JINJA.get_template("bare_error.html").render(
            status=status_code,
            reason=error.message(lang),
            _=lambda s: i18n.translate(s, lang),
            lang=lang,
        )
        response: Response = HTMLResponse(html, status_code=status_code, headers=error.headers)
        response.headers["Cache-Control"] = "no-store"
        return response
    response = page.render(
        "error.html", status_code=status_code, status=status_code, reason=page.say(error)
    )
    for name, value in (error.headers or {}).items():
        response.headers[name] = value
    return response


def form_values(form: FormData) -> dict[str, str]:
    """The text fields of a form (file uploads are not used by any page)."""
    return {
        k: v for k, v in form.items() if isinstance(v, str) and k not in (CSRF_FIELD, NONCE_FIELD)
    }


_NONCE = re.compile(IDEMPOTENCY_KEY_PATTERN)


def form_key(form: FormData) -> str:
    """The form's rendered nonce (the Idempotency-Key of a page); a form without one (an
    old page, a hand-made POST) gets a key of its own, so it acts once as well."""
    sent = form.get(NONCE_FIELD)
    if isinstance(sent, str) and _NONCE.match(sent):
        return sent
    return "page-" + secrets.token_urlsafe(16)


def field_errors(
    errors: list[dict[str, str]], lang: str = i18n.DEFAULT_LANGUAGE
) -> Mapping[str, str]:
    """Each bad field's error in the page's language, by its code (the message of a
    FormError is pydantic's English)."""
    return {e["field"]: field_message(e.get("code", ""), lang) for e in errors}


M = TypeVar("M", bound=BaseModel)


def parse_form(model: type[M], **values: Any) -> M:
    """A page form's values through the API's own request model: the same limits and the
    same refusal of text that cannot be stored (422 naming the field)."""
    try:
        return model.model_validate(values)
    except ValidationError as exc:
        errors = [
            {
                "field": ".".join(map(str, e["loc"])) or "form",
                "code": field_code(e),
                "message": e["msg"],
            }
            for e in exc.errors()
        ]
        raise Invalid(
            "invalid_request", errors=errors, fields=[e["field"] for e in errors]
        ) from None
