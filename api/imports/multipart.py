"""A streaming multipart/form-data reader: small fields are kept, the file goes to a sink.

The file flows to the sink chunk by chunk as it arrives, so a 200 MiB upload never sits whole
in memory, and an oversized one is refused as soon as it is. The fields beside it are capped in
number and in bytes (their names, part headers and values) as they arrive, whether the body's
length was declared or it comes chunked.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from email.message import Message
from typing import Protocol
from urllib.parse import parse_qsl

from python_multipart.exceptions import FormParserError
from python_multipart.multipart import MultipartParser, parse_options_header

from api.errors import PayloadTooLarge, Unprocessable
from api.nul import NUL, nul_error

MAX_FIELD_BYTES = 64 * 1024


@dataclass(frozen=True, slots=True)
class FormLimits:
    max_file_bytes: int
    max_fields: int
    max_form_bytes: int


class FileSink(Protocol):
    async def begin(self, filename: str) -> None: ...
    async def write(self, data: bytes) -> None: ...
    async def end(self) -> None: ...


@dataclass
class _Part:
    name: str = ""
    filename: str | None = None
    headers: list[tuple[bytes, bytes]] = field(default_factory=list)


def _disposition(raw: bytes) -> tuple[str, str | None]:
    message = Message()
    message["content-disposition"] = raw.decode("utf-8", "replace")
    name = message.get_param("name", header="content-disposition")
    filename = message.get_filename()
    # The file's name is only shown back; a NUL in it is dropped rather than refused.
    return (name if isinstance(name, str) else ""), filename and filename.replace(NUL, "")


class _Reader:
    """Turns the parser's synchronous callbacks into a list of events awaited after each write."""

    def __init__(self, file_field: str, sink: FileSink, limits: FormLimits) -> None:
        self.file_field = file_field
        self.sink = sink
        self.limits = limits
        self.max_file_bytes = limits.max_file_bytes
        self.fields: dict[str, str] = {}
        self.file_seen = False
        self.ended = False  # the closing boundary was read
        self._part = _Part()
        self._header_field = b""
        self._header_value = b""
        self._field_value = bytearray()
        self._pending: list[tuple[str, bytes | str]] = []
        self._file_bytes = 0
        self._field_count = 0
        self._form_bytes = 0  # everything but the file's content

    # Parser callbacks.
    def on_part_begin(self) -> None:
        self._part = _Part()
        self._field_value.clear()

    def on_header_field(self, data: bytes, start: int, end: int) -> None:
        self._count_form_bytes(end - start)
        self._header_field += data[start:end]

    def on_header_value(self, data: bytes, start: int, end: int) -> None:
        self._count_form_bytes(end - start)
        self._header_value += data[start:end]

    def on_header_end(self) -> None:
        self._part.headers.append((self._header_field.lower(), self._header_value))
        self._header_field = b""
        self._header_value = b""

    def on_headers_finished(self) -> None:
        for key, value in self._part.headers:
            if key == b"content-disposition":
                self._part.name, self._part.filename = _disposition(value)
        self.on_headers_check()
        if self._is_file():
            self._pending.append(("begin", self._part.filename or ""))
            return
        self._field_count += 1
        if self._field_count > self.limits.max_fields:
            raise _form_too_large(f"{self.limits.max_fields:,} fields")

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        if self._is_file():
            self._file_bytes += end - start
            if self._file_bytes > self.max_file_bytes:
                raise PayloadTooLarge(
                    f"The file is larger than the limit of {self.max_file_bytes:,} bytes.",
                    code="file_too_large",
                    errors=[_loc(self.file_field, "file_too_large", "The file is too large.")],
                )
            self._pending.append(("data", bytes(data[start:end])))
            return
        self._count_form_bytes(end - start)
        self._field_value += data[start:end]
        if len(self._field_value) > MAX_FIELD_BYTES:
            raise Unprocessable(f'The form field "{self._part.name}" is too long.')

    def on_part_end(self) -> None:
        if self._is_file():
            self._pending.append(("end", b""))
            self.file_seen = True
        elif self._part.name:
            self.fields[self._part.name] = self._field_value.decode("utf-8", "replace")

    def on_headers_check(self) -> None:
        # One file per form: a second would be stored over the first.
        if self._is_file() and self.file_seen:
            raise Unprocessable(
                f'Send one file in the form field "{self.file_field}", not several.',
                errors=[_loc(self.file_field, "too_many_files", "Only one file can be sent.")],
            )

    def on_end(self) -> None:
        self.ended = True

    def _count_form_bytes(self, size: int) -> None:
        self._form_bytes += size
        if self._form_bytes > self.limits.max_form_bytes:
            raise _form_too_large(f"{self.limits.max_form_bytes:,} bytes")

    def _is_file(self) -> bool:
        # Browsers send an unfilled file input as a part with filename="": that is no file.
        return self._part.name == self.file_field and bool(self._part.filename)

    async def drain(self) -> None:
        pending, self._pending = self._pending, []
        for kind, payload in pending:
            if kind == "begin":
                assert isinstance(payload, str)
                await self.sink.begin(payload)
            elif kind == "data":
                assert isinstance(payload, bytes)
                await self.sink.write(payload)
            else:
                await self.sink.end()


def _form_too_large(limit: str) -> PayloadTooLarge:
    return PayloadTooLarge(
        f"The form's fields beside the file are over the limit of {limit}; send only the "
        "import's fields.",
        code="form_too_large",
        errors=[{"loc": ["body"], "message": f"At most {limit}.", "type": "form_too_large"}],
    )


async def _read_urlencoded(body: AsyncIterator[bytes], limits: FormLimits) -> dict[str, str]:
    raw = bytearray()
    async for chunk in body:
        raw += chunk
        if len(raw) > limits.max_form_bytes:
            raise _form_too_large(f"{limits.max_form_bytes:,} bytes")
        if len(raw) > MAX_FIELD_BYTES:
            raise Unprocessable("The form is too long; send files as multipart/form-data.")
    pairs = parse_qsl(raw.decode("utf-8", "replace"), keep_blank_values=True)
    if len(pairs) > limits.max_fields:
        raise _form_too_large(f"{limits.max_fields:,} fields")
    return dict(pairs)


def _loc(field_name: str, code: str, message: str) -> dict[str, object]:
    return {"loc": ["body", field_name], "message": message, "type": code}


async def read_form(
    body: AsyncIterator[bytes],
    content_type: str | None,
    sink: FileSink,
    limits: FormLimits,
    *,
    file_field: str = "file",
) -> tuple[dict[str, str], bool]:
    """Reads the whole body: returns the text fields and whether a file part was received."""
    media_type, params = parse_options_header(content_type)
    if media_type == b"application/x-www-form-urlencoded":
        # A form without a file (a draft), as `curl -d` and plain HTML forms send it.
        return _without_nul(await _read_urlencoded(body, limits)), False
    boundary = params.get(b"boundary")
    if media_type != b"multipart/form-data" or not boundary:
        raise Unprocessable("Send the import as multipart/form-data.", code="multipart_required")
    reader = _Reader(file_field, sink, limits)
    callbacks = {
        "on_part_begin": reader.on_part_begin,
        "on_part_data": reader.on_part_data,
        "on_part_end": reader.on_part_end,
        "on_header_field": reader.on_header_field,
        "on_header_value": reader.on_header_value,
        "on_header_end": reader.on_header_end,
        "on_headers_finished": reader.on_headers_finished,
        "on_end": reader.on_end,
    }
    try:
        parser = MultipartParser(boundary, callbacks)  # type: ignore[arg-type]
    except FormParserError as exc:  # a boundary longer than the parser reads (RFC 2046: 70)
        raise Unprocessable(f"The multipart boundary is not valid: {exc}.") from None
    async for chunk in body:
        if chunk:
            try:
                parser.write(chunk)
            except (PayloadTooLarge, Unprocessable):
                raise
            except Exception as exc:  # the parser's own errors: a malformed body
                raise Unprocessable("The multipart body is malformed.") from exc
            await reader.drain()
    parser.finalize()
    if not reader.ended:  # cut short: what was read may be half a form, or half a file
        raise Unprocessable(
            "The multipart body ended before its closing boundary; send the whole form again."
        )
    await reader.drain()
    return _without_nul(reader.fields), reader.file_seen


def _without_nul(fields: dict[str, str]) -> dict[str, str]:
    """The fields, unless one holds a NUL character: PostgreSQL stores none (the file's own
    NUL bytes are the worker's to report, on their lines)."""
    bad = [name for name, value in fields.items() if NUL in name or NUL in value]
    if bad:
        raise Unprocessable(
            "A form field holds a NUL character; remove it.",
            code="invalid_character",
            errors=[nul_error(["body", name], "A NUL character cannot be stored.") for name in bad],
        )
    return fields
