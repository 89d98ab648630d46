"""``caseimport push``: the CI client. Uploads a file with progress, follows the import to its
end, prints the result and the errors, and exits with a code a pipeline can test."""

from __future__ import annotations

import argparse
import json
import os
import sys
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from cli.client.api import ClientError
from cli.client.follow import finish, follow
from cli.client.report import Reporter, reporter_for
from cli.client.session import connect
from cli.exits import Exit

SHORT_TYPES = {"add": "cases.add", "modify": "cases.modify", "upsert": "cases.upsert"}


class ProgressFile:
    """The file being uploaded, telling how much of it was sent (httpx reads it in chunks)."""

    def __init__(self, path: Path, reporter: Reporter) -> None:
        self._file: IO[bytes] = path.open("rb")
        self._size = os.fstat(self._file.fileno()).st_size
        self._sent = 0
        self._reporter = reporter

    def fileno(self) -> int:
        return self._file.fileno()

    def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        self._sent = self._file.seek(offset, whence)
        return self._sent

    def tell(self) -> int:
        return self._file.tell()

    def read(self, size: int = -1) -> bytes:
        data = self._file.read(size)
        self._sent += len(data)
        self._reporter.uploading(self._sent, self._size)
        return data

    def close(self) -> None:
        self._file.close()


def _form(args: argparse.Namespace, path: Path) -> dict[str, str]:
    type_key = SHORT_TYPES.get(args.type, args.type)
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    fields = {
        "name": args.name or f"{path.name} {stamp}",
        "type": type_key,
        "validate_only": "true" if args.validate_only else "false",
        "on_error": args.on_error,
    }
    for field in ("date_order", "encoding", "sheet", "columns"):
        value = getattr(args, field)
        if value:
            fields[field] = value
    return fields


def _columns(text: str) -> str:
    """``--columns``: a JSON object of file headers to fields (null ignores a column), sent as
    the API's ``columns`` field; refused here when it is not one, before any upload."""
    try:
        mapping = json.loads(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not JSON: {exc}") from None
    if not isinstance(mapping, dict) or not all(
        isinstance(v, str) or v is None for v in mapping.values()
    ):
        raise argparse.ArgumentTypeError(
            'a JSON object of file headers to fields, e.g. {"Case Number": "tag_id", "Notes": null}'
        )
    return text


def cmd_push(args: argparse.Namespace) -> int:
    path = Path(args.file)
    if not path.is_file():
        raise ClientError(f"{path} is not a file", Exit.USAGE)
    reporter = reporter_for(sys.stderr)
    api = connect(args, reporter)
    opened: list[ProgressFile] = []

    def body() -> dict[str, Any]:
        for earlier in opened:  # a retry sends the file again from its first byte
            earlier.close()
        upload = ProgressFile(path, reporter)
        opened.append(upload)
        return {"files": {"file": (path.name, upload, "application/octet-stream")}}

    key = args.idempotency_key or f"caseimport-push-{uuid.uuid4()}"
    try:
        answer = api.call(
            "POST",
            api.app_path(args.app, "imports"),
            data=_form(args, path),
            headers={"Idempotency-Key": key},
            make_body=body,
        )
        item: dict[str, Any] = answer.body
        if answer.headers.get("idempotent-replayed") == "true":
            reporter.note(
                f"This push was made before (Idempotency-Key {key}): import {item['id']} is "
                "followed instead of a new one."
            )
        if args.no_wait:
            reporter.close()
            return finish(api, args.app, item, Exit.COMPLETED, as_json=args.json, errors_out=None)
        item, ending = follow(api, args.app, str(item["id"]), reporter, args.timeout)
        reporter.close()
        return finish(api, args.app, item, ending, as_json=args.json, errors_out=args.errors_out)
    finally:
        reporter.close()
        for upload in opened:
            upload.close()
        api.close()


def add_arguments(push: argparse.ArgumentParser) -> None:
    push.add_argument("file", help="a CSV file or a workbook (.xlsx, .xls, .ods)")
    push.add_argument("--app", required=True, help="the app's slug")
    push.add_argument(
        "--type",
        required=True,
        help="add, modify or upsert, or an import type's full key (cases.add)",
    )
    push.add_argument("--name", help="the import's name (default: the file's name and the time)")
    push.add_argument("--validate-only", action="store_true", help="check every row, apply none")
    push.add_argument(
        "--on-error",
        choices=["fail", "skip"],
        default="fail",
        help="skip: apply the good rows and report the bad ones (default: fail, apply nothing)",
    )
    push.add_argument("--date-order", choices=["mdy", "dmy"], help="how slash dates read")
    push.add_argument(
        "--encoding", help="the CSV file's encoding, when the server should not decide"
    )
    push.add_argument("--sheet", help="a workbook's sheet, by name")
    push.add_argument(
        "--columns",
        type=_columns,
        metavar="JSON",
        help='the file\'s headers mapped to fields: {"Case Number": "tag_id", "Notes": null}',
    )
    push.add_argument(
        "--idempotency-key",
        metavar="KEY",
        help="makes a re-run push answer the import the first run made (use the CI run's id)",
    )
    push.add_argument("--no-wait", action="store_true", help="print the import and exit")
    push.add_argument("--timeout", type=float, metavar="SECONDS", help="stop waiting after this")
    push.add_argument("--json", action="store_true", help="one JSON document on stdout")
    push.add_argument("--errors-out", type=Path, metavar="PATH", help="save the errors as CSV")
