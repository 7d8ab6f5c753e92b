"""Validation of a "Contrato Assinado" upload: what the file is, not what it claims to be.

The type is sniffed from the bytes (libmagic), never taken from the name or the browser. A PDF
is parsed and refused when broken, encrypted, carrying active content (scripts, XFA scripts,
actions that run or reach out of the document, embedded files) or anything before its header or
after its end; it is then kept as sent, byte for byte (a re-serialized copy would break a
signature the customer made in the PDF itself). An image carrying another file after its end (a
PNG+HTML polyglot) is refused; one whose trailer is only media or opaque bytes (a phone's motion
photo appends its video) is accepted. Accepted images are decoded under a pixel cap and
re-encoded with no metadata (comments, EXIF, XMP, text chunks), which also drops any trailer.
Every refusal is a ValidationError with a pt-BR message for the customer.
"""

import hashlib
import re
import warnings
from contextlib import contextmanager
from dataclasses import dataclass
from io import BytesIO

import magic
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadhandler import FileUploadHandler, StopUpload
from django.http import QueryDict
from django.utils.datastructures import MultiValueDict
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from PIL import Image, ImageFile, ImageOps, UnidentifiedImageError
from pypdf import PdfReader
from pypdf.generic import (
    ArrayObject,
    DictionaryObject,
    IndirectObject,
    NameObject,
    StreamObject,
)

from portal.documents.downloads import download_filename
from portal.formats import filesize_br

EXTENSIONS = {"application/pdf": ".pdf", "image/jpeg": ".jpg", "image/png": ".png"}
SUFFIXES = {
    ".pdf": "application/pdf",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".png": "image/png",
}
IMAGE_FORMATS = {"image/jpeg": "JPEG", "image/png": "PNG"}
# An A4 page scanned at 600 dpi is 35 megapixels; decoding 40 takes at most ~160 MB.
MAX_PIXELS = 40_000_000
SNIFF_BYTES = 8192
DISPLAY_NAME_LENGTH = 120
MAX_PDF_OBJECTS = 200_000
# Keys and names that make a PDF do something when opened or clicked, or carry other files.
ACTIVE_KEYS = {
    "/JS",
    "/JavaScript",
    "/AA",
    "/Launch",
    "/EmbeddedFile",
    "/EmbeddedFiles",
    "/RichMedia",
    "/RichMediaContent",
}
ACTIVE_NAMES = {
    "/JavaScript",
    "/Launch",
    "/RichMedia",
    "/EmbeddedFile",
    "/FileAttachment",
    # Actions that open another file (a network share) or send or fetch form data.
    "/GoToR",
    "/GoToE",
    "/SubmitForm",
    "/ImportData",
}
# A link may open a web page or a mail; file:, smb: and \\host\share paths reach the network.
SAFE_URI = re.compile(r"^(https?://|mailto:)", re.IGNORECASE)
# XFA elements that run code or talk to a server.
XFA_ACTIVE = re.compile(rb"<(\w+:)?(script|execute|submit|connect)\b", re.IGNORECASE)
# What may follow a PDF's last %%EOF: line ends and padding.
PDF_PADDING = b"\x00 \t\r\n"

EMPTY = gettext_lazy("O arquivo enviado está vazio. Escolha um arquivo com o contrato assinado.")
WRONG_TYPE = gettext_lazy("Formato não aceito: envie o contrato assinado em PDF, JPEG ou PNG.")
BROKEN_PDF = gettext_lazy(
    "O PDF está corrompido ou incompleto. Gere o arquivo novamente e envie outra vez."
)
ENCRYPTED_PDF = gettext_lazy(
    "O PDF está protegido por senha. Envie o contrato assinado em um PDF sem proteção."
)
ACTIVE_PDF = gettext_lazy(
    "O PDF contém conteúdo ativo (JavaScript, ações automáticas, links para arquivos ou arquivos "
    "embutidos) e foi recusado. Envie um PDF simples, como o gerado por um scanner ou pela opção "
    "Imprimir em PDF."
)
NOT_ONLY_PDF = gettext_lazy(
    "O arquivo traz outro conteúdo junto do PDF (antes do início ou depois do fim) e foi "
    "recusado. Envie o PDF como o scanner ou a opção Imprimir em PDF o gerou."
)
BROKEN_IMAGE = gettext_lazy(
    "A imagem está corrompida ou incompleta. Digitalize o contrato novamente."
)
HIDDEN_CONTENT = gettext_lazy(
    "A imagem traz outro conteúdo escondido depois do fim da imagem e foi recusada. Envie a "
    "digitalização ou a foto original do contrato assinado."
)
# What may follow the end of an image without making it a polyglot: a motion photo's video,
# a second image, padding or a maker's binary notes. Text (HTML, scripts) and programs may not.
HARMLESS_TRAILERS = ("video/", "image/", "application/octet-stream")


@dataclass(frozen=True)
class ValidatedUpload:
    """A file that passed: the bytes to store (re-encoded for images) and what they are."""

    content: bytes
    mime: str
    display_name: str

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.content).hexdigest()


def too_large_message() -> str:
    limit = settings.SIGNED_CONTRACT_MAX_BYTES
    return _("O arquivo é maior que o limite de %(size)s. Envie um arquivo menor.") % {
        "size": filesize_br(limit)
    }


class SizeLimitUploadHandler(FileUploadHandler):
    """The upload's limit on the whole request, before Django spools anything (first in the
    request's handlers).

    A body longer than MAX_REQUEST_BYTES (the limit and room for the form) is not read at all;
    otherwise the files' running total is counted as they arrive, and reading stops at the first
    byte past the limit: several files each under it do not add up to more.
    """

    def __init__(self, request=None, *, limit: int):
        super().__init__(request)
        self.limit = limit
        self.received = 0
        self.too_large = False

    def handle_raw_input(self, input_data, META, content_length, boundary, encoding=None):
        if content_length > settings.MAX_REQUEST_BYTES:
            self.too_large = True
            return QueryDict(encoding=encoding), MultiValueDict()
        return None

    def receive_data_chunk(self, raw_data, start):
        self.received += len(raw_data)
        if self.received > self.limit:
            self.too_large = True
            raise StopUpload(connection_reset=False)  # the rest is read and dropped, unstored
        return raw_data

    def file_complete(self, file_size):
        return None


def display_name(name: str, mime: str) -> str:
    """The customer's file name, safe to show and to send: no path, no control characters, at
    most DISPLAY_NAME_LENGTH characters, and an extension that says what the file really is."""
    name = download_filename(name, default="contrato-assinado")
    stem, dot, suffix = name.rpartition(".")
    if not (dot and stem and SUFFIXES.get(f".{suffix.lower()}") == mime):
        stem, suffix = name, EXTENSIONS[mime][1:]
    return f"{stem[: DISPLAY_NAME_LENGTH - len(suffix) - 1]}.{suffix}"


def _check_pdf_objects(reader: PdfReader) -> None:
    """Walk every object reachable from the trailer, looking for active content."""
    seen: set[tuple[int, int]] = set()
    stack = [reader.trailer]
    visited = 0
    while stack:
        item = stack.pop()
        if isinstance(item, IndirectObject):
            reference = (item.idnum, item.generation)
            if reference in seen:
                continue
            seen.add(reference)
            item = item.get_object()
        visited += 1
        if visited > MAX_PDF_OBJECTS:
            raise ValidationError(BROKEN_PDF, code="pdf_too_complex")
        if isinstance(item, DictionaryObject):
            for key, value in item.items():
                if key in ACTIVE_KEYS:
                    raise ValidationError(ACTIVE_PDF, code="pdf_active")
                if key == "/OpenAction" and not isinstance(value.get_object(), ArrayObject):
                    # A destination array only sets the first view; an action dictionary acts.
                    raise ValidationError(ACTIVE_PDF, code="pdf_active")
                if key == "/URI" and _uri_is_remote(value.get_object()):
                    raise ValidationError(ACTIVE_PDF, code="pdf_remote")
                if key == "/XFA" and _xfa_is_active(value.get_object()):
                    raise ValidationError(ACTIVE_PDF, code="pdf_xfa")
                stack.append(value)
        elif isinstance(item, ArrayObject):
            stack.extend(item)
        elif isinstance(item, NameObject) and str(item) in ACTIVE_NAMES:
            raise ValidationError(ACTIVE_PDF, code="pdf_active")


def _uri_is_remote(uri) -> bool:
    """A link's target (a string; the catalog's /URI dictionary only holds a base)."""
    if isinstance(uri, bytes):
        uri = uri.decode("latin-1")
    return isinstance(uri, str) and not SAFE_URI.match(uri.strip())


def _xfa_is_active(xfa) -> bool:
    """An XFA form (one stream, or an array of names and streams) with scripts or actions."""
    parts = xfa if isinstance(xfa, ArrayObject) else [xfa]
    for part in parts:
        part = part.get_object()
        if isinstance(part, StreamObject) and XFA_ACTIVE.search(part.get_data()):
            return True
    return False


def _check_pdf(content: bytes) -> None:
    # libmagic and pypdf both take HTML in front of the header (a PDF/HTML polyglot).
    if not content.startswith(b"%PDF-"):
        raise ValidationError(NOT_ONLY_PDF, code="pdf_prefix")
    end = content.rfind(b"%%EOF")
    # A file cut short loses its trailer; pypdf would quietly rebuild what is left.
    if end == -1 or end < len(content) - 2048:
        raise ValidationError(BROKEN_PDF, code="pdf_truncated")
    if content[end + len(b"%%EOF") :].strip(PDF_PADDING):
        raise ValidationError(NOT_ONLY_PDF, code="pdf_suffix")
    try:
        reader = PdfReader(BytesIO(content))
        if reader.is_encrypted:
            raise ValidationError(ENCRYPTED_PDF, code="pdf_encrypted")
        if len(reader.pages) == 0:
            raise ValidationError(BROKEN_PDF, code="pdf_empty")
        _check_pdf_objects(reader)
    except ValidationError:
        raise
    except Exception as error:  # pypdf raises many kinds on malformed input
        raise ValidationError(BROKEN_PDF, code="pdf_broken") from error


@contextmanager
def _strict_decoding():
    """WeasyPrint switches Pillow to accept truncated images, process-wide, when imported.
    Uploads are decoded strictly (and a too-large image is an error, not a warning)."""
    lenient = ImageFile.LOAD_TRUNCATED_IMAGES
    ImageFile.LOAD_TRUNCATED_IMAGES = False
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            yield
    finally:
        ImageFile.LOAD_TRUNCATED_IMAGES = lenient


def _png_end(content: bytes) -> int | None:
    """Offset just past the IEND chunk (None: no end found; decoding will say what is wrong)."""
    position = 8  # the signature
    while position + 12 <= len(content):
        length = int.from_bytes(content[position : position + 4], "big")
        kind = content[position + 4 : position + 8]
        position += 12 + length  # length, type, data, CRC
        if kind == b"IEND":
            return position
    return None


def _jpeg_end(content: bytes) -> int | None:
    """Offset just past the EOI marker, walking the segments (an EXIF thumbnail's own EOI sits
    inside its segment and is skipped with it)."""
    position = 2  # SOI
    while position + 4 <= len(content):
        if content[position] != 0xFF:
            return None
        marker = content[position + 1]
        if marker == 0xD9:  # EOI
            return position + 2
        if marker == 0xFF or marker == 0x01 or 0xD0 <= marker <= 0xD7:  # fill, TEM, RSTn
            position += 1 if marker == 0xFF else 2
            continue
        position += 2 + int.from_bytes(content[position + 2 : position + 4], "big")
        if marker == 0xDA:  # SOS: entropy-coded data runs to the next real marker
            while (position := content.find(b"\xff", position)) != -1:
                following = content[position + 1 : position + 2]
                if following and following != b"\x00" and not 0xD0 <= following[0] <= 0xD7:
                    break
                position += 2
            if position == -1:
                return None
    return None


def _check_image_trailer(content: bytes, mime: str) -> None:
    end = _png_end(content) if mime == "image/png" else _jpeg_end(content)
    trailer = content[end:].strip(b"\x00 \t\r\n") if end is not None else b""
    if trailer:
        kind = magic.from_buffer(trailer[:SNIFF_BYTES], mime=True)
        if not kind.startswith(HARMLESS_TRAILERS):
            raise ValidationError(HIDDEN_CONTENT, code="image_trailer")


def _reencoded_image(content: bytes, mime: str) -> bytes:
    _check_image_trailer(content, mime)
    with _strict_decoding():
        try:
            image = Image.open(BytesIO(content))
            width, height = image.size
            if width * height > MAX_PIXELS:
                raise ValidationError(_too_many_pixels(width, height), code="image_too_large")
            if image.format != IMAGE_FORMATS[mime]:
                raise ValidationError(BROKEN_IMAGE, code="image_broken")
            image.load()
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as bomb:
            # Pillow's own cap, met while reading the header (far above ours).
            raise ValidationError(_too_many_pixels(), code="image_too_large") from bomb
        except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as error:
            raise ValidationError(BROKEN_IMAGE, code="image_broken") from error
    image = ImageOps.exif_transpose(image)
    options = {"icc_profile": image.info.get("icc_profile"), "dpi": image.info.get("dpi")}
    # Pillow writes some of `info` back (a JPEG's comment): keep only what draws the picture.
    image.info = {k: v for k, v in image.info.items() if k == "transparency"}
    if mime == "image/jpeg":
        if image.mode not in ("L", "RGB", "CMYK"):
            image = image.convert("RGB")
        options["quality"] = 92
    elif image.mode not in ("1", "L", "LA", "P", "RGB", "RGBA", "I", "I;16"):
        image = image.convert("RGBA")
    output = BytesIO()
    image.save(output, IMAGE_FORMATS[mime], **{k: v for k, v in options.items() if v is not None})
    return output.getvalue()


def _too_many_pixels(width: int | None = None, height: int | None = None) -> str:
    size = f" ({width} × {height} pixels)" if width else ""
    return _(
        "A imagem é grande demais%(size)s. Envie uma imagem de até %(megapixels)d megapixels, "
        "como um A4 digitalizado a 600 dpi."
    ) % {"size": size, "megapixels": MAX_PIXELS // 1_000_000}


def validate_signed_contract(upload) -> ValidatedUpload:
    """Check an uploaded file (Django UploadedFile); raise ValidationError (pt-BR) if refused."""
    if upload.size == 0:
        raise ValidationError(EMPTY, code="empty")
    if upload.size > settings.SIGNED_CONTRACT_MAX_BYTES:
        raise ValidationError(too_large_message(), code="too_large")
    upload.seek(0)
    content = upload.read(settings.SIGNED_CONTRACT_MAX_BYTES + 1)
    if not content:
        raise ValidationError(EMPTY, code="empty")
    if len(content) > settings.SIGNED_CONTRACT_MAX_BYTES:
        raise ValidationError(too_large_message(), code="too_large")
    mime = magic.from_buffer(content[:SNIFF_BYTES], mime=True)
    if mime not in EXTENSIONS:
        raise ValidationError(WRONG_TYPE, code="wrong_type")
    if mime == "application/pdf":
        _check_pdf(content)
    else:
        content = _reencoded_image(content, mime)
    return ValidatedUpload(
        content=content, mime=mime, display_name=display_name(upload.name or "", mime)
    )
