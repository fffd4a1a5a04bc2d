#!/usr/bin/env python
import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    # manage.py is the developer's entry point: it defaults to DEBUG so a fresh checkout's
    # commands work without a .env. What production serves (wsgi, asgi, the Celery worker)
    # keeps DEBUG off unless the environment turns it on; deployments set DEBUG=false here too.
    os.environ.setdefault("DEBUG", "true")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
