"""The brand colour stays readable: text on it and links in it reach 4.5:1 (WCAG AA)."""

import pytest
from django.urls import reverse

from erp_sync.management.commands.demo import TENANTS
from portal.branding import brand_colors, contrast_ratio

# Support once saved #ffd400 (yellow): white on it read at 1.4:1.
COLOURS = ["#ffd400", "#2e7d32", "#1f4e79", "#aa3300", "#00ff00", "#777777", "#ffffff", "#000000"]


def test_contrast_ratio_matches_wcag():
    assert round(contrast_ratio("#ffffff", "#000000"), 1) == 21.0
    assert round(contrast_ratio("#ffffff", "#2e7d32"), 2) == 5.13
    assert round(contrast_ratio("#ffffff", "#ffd400"), 2) == 1.43


@pytest.mark.parametrize("colour", COLOURS)
def test_every_colour_gets_readable_text_and_links(colour):
    colors = brand_colors(colour)
    assert contrast_ratio(colors.brand, colors.on_brand) >= 4.5
    assert contrast_ratio(colors.brand_text, "#ffffff") >= 4.5


def test_yellow_gets_dark_text_and_darker_links():
    colors = brand_colors("#FFD400")
    assert colors.on_brand == "#000000"
    assert colors.brand_text != "#ffd400"


@pytest.mark.parametrize("value", ["red", "#fff", "#12345g", "#123456;}", None, ""])
def test_anything_but_rrggbb_is_no_colour(value):
    assert brand_colors(value) is None


@pytest.mark.django_db
def test_the_page_carries_the_picked_text_colour(client_a, tenant_a):
    tenant_a.primary_color = "#ffd400"
    tenant_a.save()
    html = client_a.get(reverse("dashboard")).content.decode()
    assert ":root{--brand: #ffd400}" in html
    assert "--on-brand: #000000" in html


def test_the_demo_colours_pass_with_white_text():
    for spec in TENANTS:
        assert contrast_ratio(spec["primary_color"], "#ffffff") >= 4.5, spec["slug"]
