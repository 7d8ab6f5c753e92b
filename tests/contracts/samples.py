"""Files a customer might send as the signed contract: good ones, and hostile ones."""

import io
import struct
import zlib
from functools import cache

from PIL import Image
from pypdf import PdfWriter
from pypdf.generic import (
    ArrayObject,
    DictionaryObject,
    NameObject,
    NumberObject,
    TextStringObject,
)

HTML_PAYLOAD = b"<html><body><script>alert(document.cookie)</script></body></html>"


def pdf_bytes(pages: int = 1, *, writer: PdfWriter | None = None) -> bytes:
    """A plain PDF, like a scanner's (blank A4 pages)."""
    writer = writer or PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(595, 842)
    output = io.BytesIO()
    writer.write(output)
    return output.getvalue()


def png_bytes(size=(60, 80), color="white") -> bytes:
    output = io.BytesIO()
    Image.new("RGB", size, color).save(output, "PNG")
    return output.getvalue()


def jpeg_bytes(size=(60, 80), color="white", **options) -> bytes:
    output = io.BytesIO()
    Image.new("RGB", size, color).save(output, "JPEG", **options)
    return output.getvalue()


# What a phone's "motion photo" appends after the JPEG: an MP4 video.
MP4_TRAILER = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + bytes(range(256)) * 4


def jpeg_with_thumbnail_segment() -> bytes:
    """A JPEG whose application segment holds a whole small JPEG (its own SOI … EOI), as an
    EXIF thumbnail does: the end of the image is the outer EOI, not the thumbnail's."""
    thumbnail = jpeg_bytes((16, 16), "red")
    outer = jpeg_bytes((120, 90), "#ccc", progressive=True)
    segment = b"\xff\xe3" + struct.pack(">H", len(thumbnail) + 2) + thumbnail
    return outer[:2] + segment + outer[2:]


def _active_pdf(build) -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(595, 842)
    build(writer)
    output = io.BytesIO()
    writer.write(output)
    return output.getvalue()


def _open_action_js(writer: PdfWriter) -> None:
    writer._root_object[NameObject("/OpenAction")] = DictionaryObject(
        {
            NameObject("/S"): NameObject("/JavaScript"),
            NameObject("/JS"): TextStringObject("app.alert('oi');"),
        }
    )


def _document_javascript(writer: PdfWriter) -> None:
    script = DictionaryObject(
        {
            NameObject("/S"): NameObject("/JavaScript"),
            NameObject("/JS"): TextStringObject("app.alert('oi');"),
        }
    )
    tree = DictionaryObject(
        {NameObject("/Names"): ArrayObject([TextStringObject("oi"), writer._add_object(script)])}
    )
    writer._root_object[NameObject("/Names")] = DictionaryObject(
        {NameObject("/JavaScript"): writer._add_object(tree)}
    )


def _launch_link(writer: PdfWriter) -> None:
    action = DictionaryObject(
        {NameObject("/S"): NameObject("/Launch"), NameObject("/F"): TextStringObject("calc.exe")}
    )
    annotation = DictionaryObject(
        {
            NameObject("/Type"): NameObject("/Annot"),
            NameObject("/Subtype"): NameObject("/Link"),
            NameObject("/Rect"): ArrayObject([NumberObject(0)] * 4),
            NameObject("/A"): action,
        }
    )
    writer.pages[0][NameObject("/Annots")] = ArrayObject([writer._add_object(annotation)])


def _page_additional_actions(writer: PdfWriter) -> None:
    writer.pages[0][NameObject("/AA")] = DictionaryObject(
        {
            NameObject("/O"): DictionaryObject(
                {NameObject("/S"): NameObject("/URI"), NameObject("/URI"): TextStringObject("x")}
            )
        }
    )


def _rich_media(writer: PdfWriter) -> None:
    annotation = DictionaryObject(
        {
            NameObject("/Type"): NameObject("/Annot"),
            NameObject("/Subtype"): NameObject("/RichMedia"),
            NameObject("/Rect"): ArrayObject([NumberObject(0)] * 4),
        }
    )
    writer.pages[0][NameObject("/Annots")] = ArrayObject([writer._add_object(annotation)])


ACTIVE_PDFS = {
    "openaction_javascript": lambda: _active_pdf(_open_action_js),
    "document_javascript": lambda: _active_pdf(_document_javascript),
    "embedded_file": lambda: _active_pdf(lambda w: w.add_attachment("virus.exe", b"MZ\x90\x00")),
    "launch_action": lambda: _active_pdf(_launch_link),
    "additional_actions": lambda: _active_pdf(_page_additional_actions),
    "rich_media": lambda: _active_pdf(_rich_media),
}


def encrypted_pdf() -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(595, 842)
    writer.encrypt(user_password="", owner_password="segredo", algorithm="AES-128")
    output = io.BytesIO()
    writer.write(output)
    return output.getvalue()


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


@cache
def bomb_png(side: int = 20_000) -> bytes:
    """A valid 1-bit PNG of side × side pixels: ~50 KB that decode to 50 MB (400 megapixels)."""
    row = b"\x00" + b"\x00" * (side // 8)
    compressor = zlib.compressobj(9)
    data = b"".join(compressor.compress(row) for _ in range(side)) + compressor.flush()
    header = struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", header)
        + _png_chunk(b"IDAT", data)
        + _png_chunk(b"IEND", b"")
    )


ELF = b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 8 + b"\x02\x00\x3e\x00" + b"\x00" * 200
