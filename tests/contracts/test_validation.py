"""contracts.uploads on its own: what a PDF or image must be to count as a signed contract."""

import io

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image
from pypdf import PdfWriter
from pypdf.generic import ArrayObject, NameObject

from contracts.uploads import ACTIVE_PDF, HIDDEN_CONTENT, display_name, validate_signed_contract
from tests.contracts.samples import (
    ACTIVE_PDFS,
    ELF,
    HTML_PAYLOAD,
    MP4_TRAILER,
    REFUSED,
    SANITIZED,
    jpeg_bytes,
    jpeg_with_thumbnail_segment,
    pdf_bytes,
    pdf_with_static_xfa,
    pdf_with_web_link,
    png_bytes,
)


def validate(content: bytes, name: str = "contrato.pdf"):
    return validate_signed_contract(SimpleUploadedFile(name, content))


@pytest.mark.parametrize("kind", sorted(ACTIVE_PDFS))
def test_every_kind_of_active_content_is_refused(kind):
    with pytest.raises(ValidationError) as refused:
        validate(ACTIVE_PDFS[kind]())
    assert refused.value.messages == [ACTIVE_PDF]


@pytest.mark.parametrize("case", sorted(REFUSED))
def test_every_hostile_sample_is_refused_with_its_message(case):
    sample = REFUSED[case]
    with pytest.raises(ValidationError) as refused:
        validate(sample.build(), sample.name)
    assert refused.value.messages[0].startswith(sample.message)


@pytest.mark.parametrize("case", sorted(SANITIZED))
def test_every_sanitized_sample_keeps_the_picture_and_loses_the_rest(case):
    sample = SANITIZED[case]
    original = Image.open(io.BytesIO(sample.build()))

    stored = validate(sample.build(), sample.name).content

    assert b"<script" not in stored.lower()
    for marker in (b"Exif", b"tEXt", b"iTXt", b"zTXt", b"eXIf", b"\xff\xfe", b"xmpmeta"):
        assert marker not in stored, marker
    image = Image.open(io.BytesIO(stored))
    assert (image.size, image.mode) == (original.size, original.mode)
    assert not set(image.info) & {"comment", "exif", "xmp", "Comment", "Author"}


def test_web_links_and_a_form_without_scripts_are_not_active():
    for content in (pdf_with_web_link(), pdf_with_static_xfa()):
        assert validate(content).content == content


def test_open_action_that_only_sets_the_first_view_is_accepted():
    """Many PDF writers add `/OpenAction [page /Fit]`: a destination, not an action."""
    writer = PdfWriter()
    writer.add_blank_page(595, 842)
    writer._root_object[NameObject("/OpenAction")] = ArrayObject(
        [writer.pages[0].indirect_reference, NameObject("/Fit")]
    )
    content = pdf_bytes(0, writer=writer)
    assert validate(content).content == content


def test_pdf_with_a_page_count_of_zero_is_broken():
    writer = PdfWriter()
    content = pdf_bytes(0, writer=writer)
    with pytest.raises(ValidationError, match="corrompido"):
        validate(content)


def test_type_comes_from_the_bytes_not_the_name():
    validated = validate(png_bytes(), "contrato.pdf")
    assert (validated.mime, validated.display_name) == ("image/png", "contrato.pdf.png")
    assert validate(jpeg_bytes(), "foto.jpeg").display_name == "foto.jpeg"


def test_image_that_is_cut_short_is_refused():
    scan = io.BytesIO()
    Image.effect_noise((400, 400), 64).save(scan, "JPEG")
    content = scan.getvalue()
    with pytest.raises(ValidationError, match="corrompida ou incompleta"):
        validate(content[: len(content) // 2], "scan.jpg")


@pytest.mark.parametrize(
    ("image", "name"),
    [
        (png_bytes, "contrato.png"),
        (jpeg_bytes, "contrato.jpg"),
        (jpeg_with_thumbnail_segment, "contrato.jpg"),
    ],
)
@pytest.mark.parametrize("hidden", [HTML_PAYLOAD, b"alert(document.cookie)", ELF])
def test_an_image_with_another_file_after_its_end_is_refused(image, name, hidden):
    with pytest.raises(ValidationError) as refused:
        validate(image() + hidden, name)
    assert refused.value.messages == [HIDDEN_CONTENT]


def test_a_motion_photo_is_accepted_without_its_video():
    photo = jpeg_with_thumbnail_segment()
    validated = validate(photo + MP4_TRAILER, "foto.jpg")
    assert MP4_TRAILER[4:12] not in validated.content
    assert Image.open(io.BytesIO(validated.content)).size == (120, 90)


def test_padding_after_the_image_is_not_hidden_content():
    validated = validate(png_bytes((30, 40)) + b"\x00" * 512 + b"\r\n", "scan.png")
    assert Image.open(io.BytesIO(validated.content)).size == (30, 40)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("../../etc/passwd", "passwd.pdf"),
        ("..\\..\\boot.ini.pdf", "boot.ini.pdf"),
        ("con\x00trato\r\n\x1b[2J.pdf", "contrato[2J.pdf"),
        ("\u202efdp.exe", "fdp.exe.pdf"),
        ('a"b<c>|d*e?.pdf', "a_b_c_d_e_.pdf"),
        ("   ...   ", "contrato-assinado.pdf"),
        ("x" * 300 + ".pdf", "x" * 116 + ".pdf"),
    ],
)
def test_display_name_has_no_path_no_control_characters_and_the_real_extension(name, expected):
    assert display_name(name, "application/pdf") == expected
