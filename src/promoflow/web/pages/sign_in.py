"""Signing in and out of the console."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from promoflow.identity.schemas import Principal
from promoflow.kit.errors import InvalidInput
from promoflow.kit.roles import Role
from promoflow.web.auth import (
    SESSION_COOKIE,
    SESSION_LIFETIME,
    authenticate,
    close_console_session,
    from_this_site,
    open_console_session,
    picked,
    safe_next,
)
from promoflow.web.templating import render

router = APIRouter()


def _form(request: Request, next_path: str, *, error: str = "", status: int = 200) -> Response:
    return render(
        request,
        "sign_in.html",
        status_code=status,
        next_path=safe_next(next_path),
        error=error,
        dev_sign_in=request.app.state.console_dev_sign_in,
        roles=[role.value for role in Role],
    )


@router.get("/sign-in")
def sign_in_page(request: Request, next: str = "/") -> Response:
    """The sign-in form (and, in development, the role picker)."""
    return _form(request, next)


@router.post("/sign-in")
def sign_in(
    request: Request,
    next_path: Annotated[str, Form(alias="next")] = "/",
    credential: Annotated[str, Form(max_length=4096)] = "",
    role: Annotated[str, Form(max_length=40)] = "",
    name: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    """Check the credential (or, in development, the picked role) and open a session."""
    if not from_this_site(request):
        return _form(request, next_path, error="this form came from another site", status=403)
    try:
        if role:
            if not request.app.state.console_dev_sign_in:
                raise InvalidInput("role", role, "the role picker works in development only")
            principal: Principal = picked(role, name)
        else:
            principal = authenticate(request, credential)
    except InvalidInput as refused:
        return _form(request, next_path, error=refused.message, status=401)
    opened = open_console_session(principal)
    response = RedirectResponse(safe_next(next_path), status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        opened.token,
        max_age=int(SESSION_LIFETIME.total_seconds()),
        httponly=True,
        samesite="strict",
        secure=request.app.state.console_secure_cookies,
        path="/",
    )
    return response


@router.post("/sign-out")
def sign_out(request: Request) -> Response:
    """End the session and forget the cookie."""
    close_console_session(request.cookies.get(SESSION_COOKIE, ""))
    response = RedirectResponse("/sign-in", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response
