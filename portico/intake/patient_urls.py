"""The intake pages of the patient side (see intake/urls.py)."""

from django.urls import path  # noqa: F401

urlpatterns: list = []
