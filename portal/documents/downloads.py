"""Serving a stored file to its owner: the one response every download view returns.

Callers check ownership first (a selector that takes the request's tenant and user). Local
storage streams the file; S3 answers 302 to a signed URL that expires in 60 seconds and makes S3
send the same Content-Disposition, type and Cache-Control. No file ever has a public URL.
A type we do not know is sent as `application/octet-stream`: the ERP's `text/javascript` or
`text/html` would otherwise run as a same-origin script or page.
"""

import re
import unicodedata

from django.core.files.storage import FileSystemStorage
from django.db.models.fields.files import FieldFile
from django.http import FileResponse, Http404, HttpResponse, HttpResponseRedirect
from django.utils.http import content_disposition_header

SIGNED_URL_SECONDS = 60
PRIVATE = "private, no-store"
UNSAFE_FILENAME_CHARACTERS = re.compile(r'[\\/:*?"<>|;]+')
# Types a browser shows or decodes without running anything of the file's.
KNOWN_TYPES = frozenset({"application/pdf", "image/png", "image/jpeg", "image/webp", "image/gif"})
UNKNOWN_TYPE = "application/octet-stream"


def download_filename(name: str, default: str = "anexo") -> str:
    """A file name safe in any file system and header: no paths, quotes or control characters.

    Also drops invisible format characters (e.g. U+202E, which shows `fdp.exe` as `exe.pdf`).
    """
    name = unicodedata.normalize("NFC", name).rsplit("/", 1)[-1].rsplit("\\", 1)[-1]
    name = "".join(c for c in name if unicodedata.category(c) not in ("Cc", "Cf", "Cs", "Co"))
    name = UNSAFE_FILENAME_CHARACTERS.sub("_", name)
    name = re.sub(r"\s+", " ", name).strip(" ._")
    return name[-150:] or default


def served_content_type(declared: str) -> str:
    """The Content-Type a download carries: the declared type only if we know it."""
    declared = (declared or "").strip().lower()
    return declared if declared in KNOWN_TYPES else UNKNOWN_TYPE


def stored_file_response(
    file: FieldFile, *, filename: str, content_type: str, inline: bool = False
) -> HttpResponse:
    """The file as a private download (`inline`: shown by the browser, e.g. its PDF viewer)."""
    if not file:
        raise Http404("Arquivo indisponível.")
    filename = download_filename(filename)
    content_type = served_content_type(content_type)
    storage = file.storage
    if isinstance(storage, FileSystemStorage):
        try:
            stream = storage.open(file.name, "rb")
        except FileNotFoundError as missing:
            raise Http404("Arquivo indisponível.") from missing
        response = FileResponse(
            stream, as_attachment=not inline, filename=filename, content_type=content_type
        )
    else:
        url = storage.url(
            file.name,
            parameters={
                "ResponseContentDisposition": content_disposition_header(not inline, filename),
                "ResponseContentType": content_type,
                "ResponseCacheControl": PRIVATE,
            },
            expire=SIGNED_URL_SECONDS,
        )
        response = HttpResponseRedirect(url)
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = PRIVATE
    return response
