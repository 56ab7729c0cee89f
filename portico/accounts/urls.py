from django.urls import path

from portico.accounts import views

app_name = "accounts"
urlpatterns = [
    path("sign-in/", views.sign_in, name="sign_in"),
    path("sign-out/", views.sign_out, name="sign_out"),
    path("password/forgot/", views.password_forgot, name="password_forgot"),
    path("username/forgot/", views.username_forgot, name="username_forgot"),
    # The key is secret: portico.core.logging redacts it from log lines.
    path("password/reset/<str:key>/", views.password_reset_link, name="password_reset_link"),
    path("password/new/", views.password_reset_new, name="password_reset_new"),
    path("profile/", views.profile, name="profile"),
    path("profile/password/", views.password_change, name="password_change"),
    path("profile/tokens/<uuid:token_id>/revoke/", views.token_revoke, name="token_revoke"),
]
