"""The authorization server's routes (django-oauth-toolkit's views, Portico's consent page),
under the toolkit's own namespace so its discovery documents name them. Only what SMART App
Launch uses: no application or token management pages (apps are registered by the operator or a
practice administrator), no device flow, no dynamic registration."""

from django.urls import path, re_path
from oauth2_provider import views as oauth_views

from portico.fhir.authorize_views import SmartAuthorizationView

app_name = "oauth2_provider"

urlpatterns = [
    path("authorize/", SmartAuthorizationView.as_view(), name="authorize"),
    path("token/", oauth_views.TokenView.as_view(), name="token"),
    path("revoke_token/", oauth_views.RevokeTokenView.as_view(), name="revoke-token"),
    re_path(
        r"^\.well-known/openid-configuration/?$",
        oauth_views.ConnectDiscoveryInfoView.as_view(),
        name="oidc-connect-discovery-info",
    ),
    path(".well-known/jwks.json", oauth_views.JwksInfoView.as_view(), name="jwks-info"),
    path("userinfo/", oauth_views.UserInfoView.as_view(), name="user-info"),
]
