"""The intake pages of the settings side (see intake/urls.py)."""

from django.urls import path  # noqa: F401

urlpatterns: list = []
