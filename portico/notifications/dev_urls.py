"""The demo mailbox pages, under /dev/ (they answer 404 unless in demo or debug mode)."""

from django.urls import path

from portico.notifications import dev_views

urlpatterns = [
    path("mailbox/", dev_views.mailbox_list, name="mailbox"),
    path("mailbox/<str:key>/", dev_views.mailbox_detail, name="mailbox_message"),
    path("mailbox/<str:key>/html", dev_views.mailbox_html, name="mailbox_html"),
    path("sms/", dev_views.sms_list, name="dev_sms"),
]
