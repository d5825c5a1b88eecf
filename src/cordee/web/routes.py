"""Every web page route: the landing page, sign-in, sign-up and the OAuth authorization page."""

from __future__ import annotations

from starlette.routing import BaseRoute, Route

from cordee.web import authorize, pages, security_settings


def routes() -> list[BaseRoute]:
    return [
        Route("/", pages.landing, methods=["GET"]),
        Route("/auth/sign_in", pages.sign_in_page, methods=["GET"]),
        Route("/auth/sign_in", pages.sign_in_submit, methods=["POST"]),
        Route("/auth/sign_out", pages.sign_out_submit, methods=["POST"]),
        Route("/settings/sessions", security_settings.sessions_page, methods=["GET"]),
        Route("/settings/sessions/revoke_others", security_settings.revoke_others_submit, methods=["POST"]),
        Route("/settings/sessions/{id}/revoke", security_settings.revoke_submit, methods=["POST"]),
        Route("/settings/password", security_settings.password_page, methods=["GET"]),
        Route("/settings/password", security_settings.password_submit, methods=["POST"]),
        Route("/auth/sign_up", pages.sign_up_page, methods=["GET"]),
        Route("/auth/sign_up", pages.sign_up_submit, methods=["POST"]),
        Route("/oauth/authorize", authorize.authorize_page, methods=["GET"]),
        Route("/oauth/authorize", authorize.authorize_submit, methods=["POST"]),
    ]
