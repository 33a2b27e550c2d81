"""Open Graph images: a 1200x630 card per page with its title on the clinic's colors.

Each card is drawn once: its PNG carries a key (a hash of everything drawn on it) in a text chunk,
and a build that finds the live card's key unchanged leaves the file alone, so a rebuild encodes
nothing and a one-page change encodes one card. The parts every card shares (colors, logo, name,
phone) are drawn once per build; a page adds only its title, drawn into its band as palette
indices, which keeps a card at a few milliseconds and about 15 KB. Deterministic bytes for a given Pillow.
"""

from __future__ import annotations

import functools
import hashlib
import io
from functools import cached_property

from PIL import Image as PILImage
from PIL import ImageDraw, ImageFont, PngImagePlugin

from ..site import Site
from .images import Images, Picture
from .write import SiteWriter

VERSION = "3"  # bump when the drawing below changes
SIZE = (1200, 630)
MARGIN = 72
TITLE_TOP, TITLE_BOTTOM = 200, 500
BAND = (SIZE[0] - 2 * MARGIN, TITLE_BOTTOM - TITLE_TOP)  # where a page's title goes
BLEND_BASE, BLENDS = 240, 16  # palette slots 240-255: background-to-white steps for the title
KEY_CHUNK = "seo-og-key"


def _rgb(hex_color: str) -> tuple[int, int, int]:
    return int(hex_color[1:3], 16), int(hex_color[3:5], 16), int(hex_color[5:7], 16)


@functools.lru_cache(maxsize=16)
def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    return ImageFont.load_default(size=size)  # Pillow's bundled font: the same on every machine


def _wrap(text: str, font, width: int) -> list[str]:
    lines: list[str] = []
    for word in text.split():
        if lines and font.getlength(f"{lines[-1]} {word}") <= width:
            lines[-1] = f"{lines[-1]} {word}"
        else:
            lines.append(word)
    return lines


def card_title(title: str, business: str) -> str:
    """The page title without the " | Business" suffix the card shows on its own."""
    suffix = f" | {business}"
    return title[: -len(suffix)] if title.endswith(suffix) and len(title) > len(suffix) else title


class Cards:
    """Draws and stages each page's card; one per build (the shared parts are drawn once)."""

    def __init__(self, site: Site, writer: SiteWriter | None, images: Images) -> None:
        self.site, self.writer, self.images = site, writer, images
        biz, loc = site.config.business, site.config.locations[0]
        self.bg = _rgb(site.config.site.theme_color)
        self.accent = _rgb(site.config.site.theme.accent)
        self.name = biz.name
        self.footer = (f"{loc.address.locality}, {loc.address.region}  ·  "
                       f"{site.phone(loc.telephone).display}")
        self.logo = site.image_path(biz.logo).read_bytes() if biz.logo else b""
        self.shared_key = hashlib.sha256("\0".join([
            VERSION, site.config.site.theme_color, site.config.site.theme.accent, self.name,
            self.footer, hashlib.sha256(self.logo).hexdigest()]).encode()).hexdigest()
        self.encoded = 0

    def key(self, title: str) -> str:
        return hashlib.sha256(f"{self.shared_key}\0{title}".encode()).hexdigest()[:20]

    def ensure(self, rel: str, title: str) -> str:
        """Stage the card for `title` at `rel` unless the live one already shows it; its key."""
        key = self.key(title)
        if self.writer is not None and _live_key(self.writer.out / rel) != key:
            self.writer.put(rel, self.draw(title, key), replace=True)
            self.encoded += 1
        return key

    def prepare(self) -> None:
        """Draw the shared parts now (before a fork, so both processes use one drawing)."""
        _ = self._base

    @cached_property
    def _base(self) -> tuple[PILImage.Image, list[int]]:
        """The shared parts as a palette image (slots 240+ kept for the title's anti-aliasing
        steps), and the table turning the title's coverage into palette indices."""
        image = PILImage.new("RGB", SIZE, self.bg)
        draw = ImageDraw.Draw(image)
        draw.rectangle((0, 0, SIZE[0], 14), fill=self.accent)
        x = MARGIN
        if self.logo:
            logo = PILImage.open(io.BytesIO(self.logo)).convert("RGBA")
            logo.thumbnail((224, 80), PILImage.Resampling.LANCZOS)
            draw.rounded_rectangle((MARGIN, 64, MARGIN + logo.width + 16, 64 + logo.height + 16),
                                   radius=14, fill=(255, 255, 255))  # the logo may be brand-colored
            image.paste(logo, (MARGIN + 8, 72), logo)
            x = MARGIN + logo.width + 44
        draw.text((x, 112), self.name, font=_font(40), fill=(255, 255, 255), anchor="lm")
        draw.text((MARGIN, 560), self.footer, font=_font(34),
                  fill=_mix(self.bg, (255, 255, 255), 0.8), anchor="lm")
        draw.rectangle((MARGIN, 520, MARGIN + 120, 526), fill=self.accent)
        base = image.quantize(colors=BLEND_BASE, method=PILImage.Quantize.MEDIANCUT, dither=0)
        palette = (base.getpalette() or [])[: BLEND_BASE * 3]
        palette += [0] * (BLEND_BASE * 3 - len(palette))
        for step in range(BLENDS):
            palette += list(_mix(self.bg, (255, 255, 255), step / (BLENDS - 1)))
        base.putpalette(palette)
        background = base.getpixel((MARGIN, TITLE_TOP))  # the band is plain background
        lut = [background] + [BLEND_BASE + (v * (BLENDS - 1) + 127) // 255 for v in range(1, 256)]
        return base, lut

    def draw(self, title: str, key: str) -> bytes:
        """The card for `title`: the title drawn into its band only, as palette indices pasted
        over the shared parts (no full-frame work per card)."""
        base, lut = self._base
        band = PILImage.new("L", BAND, 0)
        draw = ImageDraw.Draw(band)
        for size in (72, 62, 54, 46):
            font = _font(size)
            lines = _wrap(title, font, BAND[0])
            line_height = round(size * 1.22)
            if len(lines) * line_height <= BAND[1]:
                break
        for i, line in enumerate(lines[: BAND[1] // line_height]):
            draw.text((0, i * line_height), line, font=font, fill=255)
        indices = PILImage.frombytes("P", BAND, band.point(lut).tobytes())
        card = base.copy()
        card.paste(indices, (MARGIN, TITLE_TOP))
        info = PngImagePlugin.PngInfo()
        info.add_text(KEY_CHUNK, key)
        buffer = io.BytesIO()
        card.save(buffer, "PNG", compress_level=1, pnginfo=info)
        return buffer.getvalue()

    def photo(self) -> Picture | None:
        """The clinic photo cropped to 1200x630 (`theme.og_image: photo`), one file for all pages."""
        photos = self.site.config.locations[0].photos
        return self.images.picture(photos[0], "og") if photos else None


def _mix(a: tuple[int, int, int], b: tuple[int, int, int], t: float) -> tuple[int, int, int]:
    return (round(a[0] + (b[0] - a[0]) * t), round(a[1] + (b[1] - a[1]) * t),
            round(a[2] + (b[2] - a[2]) * t))


def _live_key(path) -> str | None:
    """The key in a live card's text chunk (it comes before the image data: a short read)."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(4096)
    except OSError:
        return None
    marker = KEY_CHUNK.encode() + b"\0"
    at = head.find(marker)
    if at < 0:
        return None
    return head[at + len(marker): at + len(marker) + 20].decode("ascii", "replace")
