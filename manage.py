#!/usr/bin/env python
"""Django's command-line utility for the metadata gateway."""

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "metadata_gateway.settings")
    from django.core.management import execute_from_command_line

    from metadata_gateway.startup import RefusedToStart, exit_with

    try:
        execute_from_command_line(sys.argv)
    except RefusedToStart as error:  # a setting to fix: one line naming it, no traceback
        exit_with(error)


if __name__ == "__main__":
    main()
