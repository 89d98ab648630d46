"""Where the client commands find the server and their token."""

from __future__ import annotations

import argparse
import os

from api.version import VERSION
from cli.client.api import Api, ClientError
from cli.client.report import Reporter
from cli.exits import Exit

DEFAULT_URL = "http://127.0.0.1:8000"


def add_server_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--url",
        default=os.environ.get("CASEIMPORT_URL", DEFAULT_URL),
        help=f"the service (CASEIMPORT_URL; default {DEFAULT_URL})",
    )
    parser.add_argument(
        "--token",
        default=os.environ.get("CASEIMPORT_TOKEN"),
        help="an API token of the app (CASEIMPORT_TOKEN)",
    )


def connect(args: argparse.Namespace, reporter: Reporter) -> Api:
    if not args.token:
        raise ClientError(
            "no API token: pass --token or set CASEIMPORT_TOKEN (an admin makes one on the "
            "API TOKENS page, or with `caseimport create-token`)",
            Exit.USAGE,
        )
    return Api(
        args.url,
        args.token,
        user_agent=f"caseimport/{VERSION}",
        on_retry=lambda why, wait: reporter.note(f"{why}; trying again in {wait:.1f} s"),
    )
