from django.apps import AppConfig


class BookingConfig(AppConfig):
    name = "portico.booking"
    label = "booking"
    verbose_name = "Online profiles and appointment requests"
