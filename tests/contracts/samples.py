"""Files a customer might send as the signed contract: good ones, and hostile ones.

The hostile ones are catalogued at the end: REFUSED (each must be refused with its message,
storing nothing) and SANITIZED (accepted, but what is stored holds none of the payload). Every
upload rule is tried against both (tests/contracts/test_validation.py, test_uploads.py): a new
finding adds its sample here.
"""

import io
import struct
import zlib
from dataclasses import dataclass
from functools import cache

from PIL import Image, PngImagePlugin
from pypdf import PdfWriter
from pypdf.generic import (
    ArrayObject,
    DecodedStreamObject,
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


def _link(action: dict):
    """A link annotation on the first page carrying `action`."""

    def build(writer: PdfWriter) -> None:
        annotation = DictionaryObject(
            {
                NameObject("/Type"): NameObject("/Annot"),
                NameObject("/Subtype"): NameObject("/Link"),
                NameObject("/Rect"): ArrayObject([NumberObject(0)] * 4),
                NameObject("/A"): DictionaryObject({NameObject(k): v for k, v in action.items()}),
            }
        )
        writer.pages[0][NameObject("/Annots")] = ArrayObject([writer._add_object(annotation)])

    return build


def _xfa(template: bytes):
    """An XFA form (/AcroForm /XFA) whose template is `template`."""

    def build(writer: PdfWriter) -> None:
        stream = DecodedStreamObject()
        stream.set_data(
            b'<xdp:xdp xmlns:xdp="http://ns.adobe.com/xdp/">' + template + b"</xdp:xdp>"
        )
        writer._root_object[NameObject("/AcroForm")] = DictionaryObject(
            {
                NameObject("/Fields"): ArrayObject(),
                NameObject("/XFA"): ArrayObject(
                    [TextStringObject("template"), writer._add_object(stream)]
                ),
            }
        )

    return build


XFA_SCRIPT = (
    b'<template xmlns="http://www.xfa.org/schema/xfa-template/3.3/"><subform name="f">'
    b'<event activity="initialize"><script contentType="application/x-javascript">'
    b"xfa.host.messageBox('oi');</script></event></subform></template>"
)
XFA_STATIC = b'<template xmlns="http://www.xfa.org/schema/xfa-template/3.3/"><subform/></template>'
SHARE = TextStringObject("\\\\10.0.0.1\\contratos\\modelo.pdf")

ACTIVE_PDFS = {
    "openaction_javascript": lambda: _active_pdf(_open_action_js),
    "document_javascript": lambda: _active_pdf(_document_javascript),
    "embedded_file": lambda: _active_pdf(lambda w: w.add_attachment("virus.exe", b"MZ\x90\x00")),
    "launch_action": lambda: _active_pdf(_launch_link),
    "additional_actions": lambda: _active_pdf(_page_additional_actions),
    "rich_media": lambda: _active_pdf(_rich_media),
    # Issue #9, finding 5: XFA with a script, and actions that reach out of the document.
    "xfa_script": lambda: _active_pdf(_xfa(XFA_SCRIPT)),
    "goto_remote_share": lambda: _active_pdf(
        _link({"/S": NameObject("/GoToR"), "/F": SHARE, "/D": ArrayObject([NumberObject(0)])})
    ),
    "goto_embedded": lambda: _active_pdf(
        _link({"/S": NameObject("/GoToE"), "/T": DictionaryObject()})
    ),
    "uri_file": lambda: _active_pdf(
        _link({"/S": NameObject("/URI"), "/URI": TextStringObject("file:///etc/passwd")})
    ),
    "uri_smb_share": lambda: _active_pdf(
        _link({"/S": NameObject("/URI"), "/URI": TextStringObject("smb://10.0.0.1/c$")})
    ),
    "uri_unc_path": lambda: _active_pdf(_link({"/S": NameObject("/URI"), "/URI": SHARE})),
    "submit_form": lambda: _active_pdf(
        _link({"/S": NameObject("/SubmitForm"), "/F": TextStringObject("https://x.example/")})
    ),
    "import_data": lambda: _active_pdf(
        _link({"/S": NameObject("/ImportData"), "/F": TextStringObject("dados.fdf")})
    ),
}


def pdf_with_web_link() -> bytes:
    """A browser's "Save as PDF" keeps the page's links: an https URI is fine."""
    return _active_pdf(
        _link({"/S": NameObject("/URI"), "/URI": TextStringObject("https://alfa.com.br/")})
    )


def pdf_with_static_xfa() -> bytes:
    """An XFA form with no script: a form, not a program."""
    return _active_pdf(_xfa(XFA_STATIC))


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


def jpeg_with_comment() -> bytes:
    """Pillow's JPEG save copies `info["comment"]`: the COM segment survived re-encoding."""
    return jpeg_bytes((64, 90), "#eee", comment=HTML_PAYLOAD)


def jpeg_with_exif_and_xmp() -> bytes:
    exif = Image.Exif()
    exif[0x010E] = HTML_PAYLOAD.decode()  # ImageDescription
    exif[0x0131] = "Scanner <script>"  # Software
    return jpeg_bytes((64, 90), "#eee", exif=exif.tobytes(), xmp=b"<x:xmpmeta>" + HTML_PAYLOAD)


def png_with_text_chunks() -> bytes:
    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", HTML_PAYLOAD.decode())
    info.add_itxt("XML:com.adobe.xmp", HTML_PAYLOAD.decode())
    info.add_text("Author", HTML_PAYLOAD.decode(), zip=True)
    exif = Image.Exif()
    exif[0x010E] = HTML_PAYLOAD.decode()
    output = io.BytesIO()
    Image.new("RGB", (64, 90), "#eee").save(output, "PNG", pnginfo=info, exif=exif.tobytes())
    return output.getvalue()


# The catalogue -------------------------------------------------------------------------------

MIB = 1024 * 1024
WRONG_TYPE = "Formato não aceito"
BROKEN_PDF = "O PDF está corrompido ou incompleto"
ACTIVE_PDF = "O PDF contém conteúdo ativo"
NOT_ONLY_PDF = "O arquivo traz outro conteúdo junto do PDF"


@dataclass(frozen=True)
class Hostile:
    build: object  # () -> bytes
    name: str  # the file name it is sent under
    message: str = ""  # the start of the pt-BR refusal the customer reads (REFUSED)


REFUSED = {
    "executable named .pdf": Hostile(lambda: ELF, "contrato.pdf", WRONG_TYPE),
    "html named .pdf": Hostile(
        lambda: b"<!DOCTYPE html>\n" + HTML_PAYLOAD, "contrato.pdf", WRONG_TYPE
    ),
    "truncated pdf": Hostile(
        lambda: pdf_bytes(3)[: len(pdf_bytes(3)) // 2], "contrato.pdf", BROKEN_PDF
    ),
    "encrypted pdf": Hostile(encrypted_pdf, "contrato.pdf", "O PDF está protegido por senha"),
    "png+html polyglot": Hostile(
        lambda: png_bytes((64, 90), "#eee") + HTML_PAYLOAD,
        "contrato.png",
        "A imagem traz outro conteúdo escondido",
    ),
    "10 MiB + 1 byte": Hostile(
        lambda: b"%PDF-1.4\n" + b"0" * (10 * MIB + 1 - 9),
        "contrato.pdf",
        "O arquivo é maior que o limite de 10,0\u00a0MB",
    ),
    "decompression bomb png": Hostile(bomb_png, "contrato.png", "A imagem é grande demais"),
    "empty file": Hostile(lambda: b"", "contrato.pdf", "O arquivo enviado está vazio"),
    # Issue #9, finding 5: libmagic and pypdf both take a PDF with HTML in front of it.
    "html before %PDF": Hostile(lambda: HTML_PAYLOAD + b"\n" + pdf_bytes(), "c.pdf", NOT_ONLY_PDF),
    "html after %%EOF": Hostile(lambda: pdf_bytes() + HTML_PAYLOAD, "c.pdf", NOT_ONLY_PDF),
    **{
        f"pdf: {kind}": Hostile(build, "contrato.pdf", ACTIVE_PDF)
        for kind, build in ACTIVE_PDFS.items()
    },
}

# Accepted, and stored without the payload (b"<script" must not be in the stored bytes).
SANITIZED = {
    "jpeg with a <script> comment": Hostile(jpeg_with_comment, "scan.jpg"),
    "jpeg with exif and xmp": Hostile(jpeg_with_exif_and_xmp, "scan.jpg"),
    "png with text chunks and exif": Hostile(png_with_text_chunks, "scan.png"),
}
