from django.apps import AppConfig


class DemoConfig(AppConfig):
    """The demo practice and the benchmark data (`portico demo`, `portico seed_demo`)."""

    name = "portico.demo"
    label = "demo"
