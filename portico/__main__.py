"""The `portico` console command: Django's manage.py with Portico's settings.

portico migrate · portico demo · portico db_worker · portico create_api_token ...
"""

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portico.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(["portico", *sys.argv[1:]])


if __name__ == "__main__":
    main()
