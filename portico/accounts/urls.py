from django.urls import path

from portico.accounts import language_views, mfa_views, views

app_name = "accounts"
urlpatterns = [
    path("sign-in/", views.sign_in, name="sign_in"),
    path("sign-out/", views.sign_out, name="sign_out"),
    path("language/", language_views.choose_language, name="language"),
    path("password/forgot/", views.password_forgot, name="password_forgot"),
    path("username/forgot/", views.username_forgot, name="username_forgot"),
    # The key is secret: portico.core.logging redacts it from log lines.
    path("password/reset/<str:key>/", views.password_reset_link, name="password_reset_link"),
    path("password/new/", views.password_reset_new, name="password_reset_new"),
    path("profile/", views.profile, name="profile"),
    path("profile/password/", views.password_change, name="password_change"),
    path("profile/tokens/<uuid:token_id>/revoke/", views.token_revoke, name="token_revoke"),
    path("verify/", mfa_views.verify, name="mfa_verify"),
    path("authenticator/", mfa_views.enroll, name="mfa_enroll"),
    path("authenticator/remove/", mfa_views.authenticator_remove, name="mfa_remove"),
    path("recovery-codes/", mfa_views.recovery_codes_new, name="recovery_codes_new"),
    path("devices/<uuid:device_id>/forget/", mfa_views.device_forget, name="device_forget"),
    path("session/", mfa_views.session_status, name="session_status"),
    path("session/keep-alive/", mfa_views.session_keepalive, name="session_keepalive"),
]
