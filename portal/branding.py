"""The tenant's brand colour, kept readable: WCAG 2 contrast, in one place.

The header and the primary buttons use the brand colour as background; the text on them is
white or black, whichever contrasts more (at least 4.58:1 for any colour). Links and other
text in the brand colour on the white page are darkened until they reach 4.5:1 too.
"""

import re
from dataclasses import dataclass

HEX_COLOR = re.compile(r"^#[0-9a-fA-F]{6}$")
MIN_CONTRAST = 4.5
WHITE = "#ffffff"
DARK = "#000000"
PAGE = WHITE


def _channel(value: int) -> float:
    c = value / 255
    return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4


def relative_luminance(color: str) -> float:
    r, g, b = (int(color[i : i + 2], 16) for i in (1, 3, 5))
    return 0.2126 * _channel(r) + 0.7152 * _channel(g) + 0.0722 * _channel(b)


def contrast_ratio(first: str, second: str) -> float:
    """WCAG 2 contrast ratio, 1 to 21."""
    lighter, darker = sorted((relative_luminance(first), relative_luminance(second)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def text_on(background: str) -> str:
    """White or black text on `background`, whichever reads better."""
    return WHITE if contrast_ratio(WHITE, background) >= contrast_ratio(DARK, background) else DARK


def _darker(color: str, factor: float) -> str:
    r, g, b = (int(color[i : i + 2], 16) for i in (1, 3, 5))
    return "#{:02x}{:02x}{:02x}".format(*(round(c * factor) for c in (r, g, b)))


def readable_on_page(color: str) -> str:
    """`color` itself when it reads on the white page, else the nearest darker shade that does."""
    factor = 1.0
    shade = color.lower()
    while contrast_ratio(shade, PAGE) < MIN_CONTRAST and factor > 0:
        factor = round(factor - 0.05, 2)
        shade = _darker(color, factor)
    return shade


@dataclass(frozen=True)
class BrandColors:
    brand: str  # backgrounds: header, primary buttons
    on_brand: str  # text on them
    brand_text: str  # links and brand-coloured text on the page

    @property
    def contrast(self) -> float:
        return contrast_ratio(self.brand, self.on_brand)

    def css(self) -> str:
        return f":root{{--brand: {self.brand}}}"

    def text_css(self) -> str:
        return f":root{{--on-brand: {self.on_brand}; --brand-text: {self.brand_text}}}"


def brand_colors(color: str) -> BrandColors | None:
    """The palette of a `#rrggbb` brand colour (None for anything else: it lands inside CSS)."""
    if not isinstance(color, str) or not HEX_COLOR.match(color):
        return None
    color = color.lower()
    return BrandColors(brand=color, on_brand=text_on(color), brand_text=readable_on_page(color))
