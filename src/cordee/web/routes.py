"""Every web page route: the landing page, sign-in, sign-up and the OAuth authorization page."""

from __future__ import annotations

from starlette.routing import BaseRoute, Route

from cordee.web import authorize, email_pages, pages, security_settings, two_factor, two_factor_settings


def routes() -> list[BaseRoute]:
    return [
        Route("/", pages.landing, methods=["GET"]),
        Route("/auth/sign_in", pages.sign_in_page, methods=["GET"]),
        Route("/auth/sign_in", pages.sign_in_submit, methods=["POST"]),
        Route("/auth/sign_out", pages.sign_out_submit, methods=["POST"]),
        Route("/auth/two_factor", two_factor.second_step_page, methods=["GET"]),
        Route("/auth/two_factor", two_factor.second_step_submit, methods=["POST"]),
        Route("/settings/two_factor", two_factor_settings.settings_page, methods=["GET"]),
        Route("/settings/two_factor/setup", two_factor_settings.setup_submit, methods=["POST"]),
        Route("/settings/two_factor/enable", two_factor_settings.enable_submit, methods=["POST"]),
        Route(
            "/settings/two_factor/recovery_codes", two_factor_settings.recovery_codes_submit, methods=["POST"]
        ),
        Route("/settings/two_factor/disable", two_factor_settings.disable_submit, methods=["POST"]),
        Route("/auth/password/new", email_pages.forgot_page, methods=["GET"]),
        Route("/auth/password", email_pages.forgot_submit, methods=["POST"]),
        Route("/auth/password/edit", email_pages.reset_page, methods=["GET"]),
        Route("/auth/password/edit", email_pages.reset_submit, methods=["POST"]),
        Route("/auth/confirmation", email_pages.confirm_link, methods=["GET"]),
        Route("/auth/confirmation/new", email_pages.resend_page, methods=["GET"]),
        Route("/auth/confirmation", email_pages.resend_submit, methods=["POST"]),
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
