"""The JSON API at /api/v1/: one NinjaAPI, each app's router mounted under its name.

Errors share one shape: {"code": ..., "message": ..., "field": ...}."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError
from ninja.security import HttpBearer, django_auth

from yiwang.cases.errors import CaseConflict
from yiwang.matching.errors import MatchConflict
from yiwang.org.services import api_token_user


class BearerToken(HttpBearer):
    def authenticate(self, request, token):
        user = api_token_user(token)
        if user is not None:
            request.user = user
        return user


api = NinjaAPI(
    title="Yiwang 一网治理 API",
    version="1",
    urls_namespace="api",
    # Bearer first: ninja stops at the first method that fails, and session auth's CSRF check
    # would refuse every token-only POST.
    auth=[BearerToken(), django_auth],
    docs_url="/docs",
)


def error(request, status: int, code: str, message: str, field: str | None = None):
    return api.create_response(
        request, {"code": code, "message": message, "field": field}, status=status
    )


@api.exception_handler(NinjaValidationError)
def on_validation(request, exc: NinjaValidationError):
    first = exc.errors[0] if exc.errors else {}
    loc = [str(p) for p in first.get("loc", [])]
    # ("body", "<param name>", "field") → "field": clients know fields, not our parameter names.
    if loc[:1] == ["body"] and len(loc) > 2:
        loc = loc[2:]
    loc = [p for p in loc if p not in ("query", "body", "path", "form", "file")]
    field = ".".join(loc) or None
    message = first.get("msg", "invalid input")
    return error(request, 400, "invalid", f"{field}: {message}" if field else message, field)


@api.exception_handler(ValidationError)
def on_django_validation(request, exc: ValidationError):
    if hasattr(exc, "message_dict"):
        field, messages = next(iter(exc.message_dict.items()))
        return error(request, 400, "invalid", "; ".join(messages), field)
    return error(request, 400, "invalid", "; ".join(exc.messages))


@api.exception_handler(Http404)
def on_404(request, exc):
    return error(request, 404, "not_found", "对象不存在或无权访问")


@api.exception_handler(PermissionDenied)
def on_403(request, exc):
    return error(request, 403, "forbidden", "无权执行此操作")


@api.exception_handler(AuthenticationError)
def on_401(request, exc):
    return error(request, 401, "unauthenticated", "请先登录或提供有效的 API 令牌")


@api.exception_handler(HttpError)
def on_http_error(request, exc: HttpError):
    return error(request, exc.status_code, "error", str(exc))


# Each app's router, mounted at /api/v1/<app>/.
ROUTERS = ["org", "geo", "registry", "search", "cases", "intake", "brain", "matching"]


def _mount():
    from importlib import import_module

    for app in ROUTERS:
        api.add_router(f"/{app}/", import_module(f"yiwang.{app}.api").router)
    api.add_router("/wall/", import_module("yiwang.cases.api").wall_router)


@api.exception_handler(CaseConflict)
def on_conflict(request, exc: CaseConflict):
    return api.create_response(request, exc.as_dict(), status=409)


@api.exception_handler(MatchConflict)
def on_match_conflict(request, exc: MatchConflict):
    return api.create_response(request, exc.as_dict(), status=409)


_mount()

__all__ = ["api"]
