"""The intake pages of the staff side (see intake/urls.py)."""

from django.urls import path  # noqa: F401

urlpatterns: list = []
