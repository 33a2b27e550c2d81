"""Open Graph images: a 1200x630 card per page with its title on the clinic's colors.

Each card is drawn once: its PNG carries a key (a hash of everything drawn on it) in a text chunk,
and a build that finds the live card's key unchanged leaves the file alone, so a rebuild encodes
nothing and a one-page change encodes one card. The parts every card shares (colors, logo, name,
phone) are drawn and compressed once per build; a page adds only its title, drawn into its band
as palette indices, and only the band's rows are compressed for each card (the PNG's pixel data is
one zlib stream: the rows above and below the band are compressed once and spliced in around it).
Titles are set from words drawn once per build and font size (titles share most words).
That keeps a card at about 1.4 ms of CPU (3.5 ms when Pillow drew and encoded each whole card)
and 15-20 KB. Deterministic bytes for a given Pillow and zlib.
"""

from __future__ import annotations

import functools
import hashlib
import io
import struct
import zlib
from functools import cached_property

import numpy as np
from PIL import Image as PILImage
from PIL import ImageDraw, ImageFont

from ..site import Site
from .images import Images, Picture
from .write import SiteWriter

VERSION = "4"  # bump when the drawing below changes
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
        _ = self._base, self._png, self._lut

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

    @cached_property
    def _png(self) -> _SplicedPng:
        base, _ = self._base
        return _SplicedPng(base)

    def draw(self, title: str, key: str) -> bytes:
        """The card for `title`: the title set word by word into its band (each word drawn once
        per build and size, see `_Words`), as palette indices spliced into the shared parts."""
        band = np.zeros((BAND[1], BAND[0]), dtype=np.uint8)
        for size in (72, 62, 54, 46):
            words = self._words.at(size)
            lines = words.wrap(title.split(), BAND[0])
            line_height = round(size * 1.22)
            if len(lines) * line_height <= BAND[1]:
                break
        for i, line in enumerate(lines[: BAND[1] // line_height]):
            words.set_line(band, line, i * line_height)
        return self._png.encode(self._lut[band], key)

    @cached_property
    def _lut(self) -> np.ndarray:
        return np.array(self._base[1], dtype=np.uint8)

    @cached_property
    def _words(self) -> _Fonts:
        return _Fonts()

    def photo(self) -> Picture | None:
        """The clinic photo cropped to 1200x630 (`theme.og_image: photo`), one file for all pages."""
        photos = self.site.config.locations[0].photos
        return self.images.picture(photos[0], "og") if photos else None


class _Fonts:
    def __init__(self) -> None:
        self.sizes: dict[int, _Words] = {}

    def at(self, size: int) -> _Words:
        if size not in self.sizes:
            self.sizes[size] = _Words(_font(size))
        return self.sizes[size]


class _Words:
    """One font size's words, each drawn (anti-aliased coverage) and measured once: a title is
    set by placing its words at their advance, so a card costs no text drawing for a word an
    earlier card used (titles share most of their words)."""

    LIMIT = 50_000  # words kept; past this the cache starts over

    def __init__(self, font) -> None:
        self.font = font
        self.space = font.getlength(" ")
        self.cache: dict[str, tuple[np.ndarray, int, int, float]] = {}

    def word(self, text: str) -> tuple[np.ndarray, int, int, float]:
        """(coverage, left, top, advance) of a word drawn at the origin (left-ascender anchor)."""
        found = self.cache.get(text)
        if found is None:
            x0, y0, x1, y1 = self.font.getbbox(text, anchor="la")
            image = PILImage.new("L", (max(1, x1 - x0), max(1, y1 - y0)), 0)
            ImageDraw.Draw(image).text((-x0, -y0), text, font=self.font, fill=255, anchor="la")
            coverage = np.asarray(image, dtype=np.uint8)
            found = (coverage, x0, y0, self.font.getlength(text))
            if len(self.cache) >= self.LIMIT:
                self.cache.clear()
            self.cache[text] = found
        return found

    def wrap(self, words: list[str], width: int) -> list[list[str]]:
        lines: list[list[str]] = []
        used = 0.0
        for word in words:
            advance = self.word(word)[3]
            if lines and used + self.space + advance <= width:
                lines[-1].append(word)
                used += self.space + advance
            else:
                lines.append([word])
                used = advance
        return lines

    def set_line(self, band: np.ndarray, line: list[str], top: int) -> None:
        x = 0.0
        for word in line:
            coverage, left, dy, advance = self.word(word)
            col, row = round(x) + left, top + dy
            h = min(coverage.shape[0], band.shape[0] - row)
            w = min(coverage.shape[1], band.shape[1] - col)
            if h > 0 and w > 0 and row >= 0 and col >= 0:
                target = band[row:row + h, col:col + w]
                np.maximum(target, coverage[:h, :w], out=target)
            x += advance + self.space


class _SplicedPng:
    """A palette PNG of the shared card whose title band is filled in per card.

    PNG pixel data is one zlib stream of rows, each a filter byte (0: none) and its palette indices.
    The rows above and below the band are the same on every card: they are deflated once, each part
    from a fresh compressor ending on a byte boundary, so the band's own deflate output can sit
    between them and the stream still decodes as one; the Adler-32 checksum is carried across.
    """

    def __init__(self, base: PILImage.Image) -> None:
        rows = np.frombuffer(base.tobytes(), dtype=np.uint8).reshape(SIZE[1], SIZE[0])
        framed = np.zeros((SIZE[1], SIZE[0] + 1), dtype=np.uint8)
        framed[:, 1:] = rows
        top, bottom = framed[:TITLE_TOP].tobytes(), framed[TITLE_BOTTOM:].tobytes()
        self.strip = framed[TITLE_TOP:TITLE_BOTTOM]
        self.top_adler = zlib.adler32(top)
        self.bottom = bottom
        self.top_z = _deflate(top, zlib.Z_SYNC_FLUSH)
        self.bottom_z = _deflate(bottom, zlib.Z_FINISH)
        palette = bytes((base.getpalette() or [])[: 256 * 3])
        self.head = (b"\x89PNG\r\n\x1a\n"
                     + _chunk(b"IHDR", struct.pack(">IIBBBBB", SIZE[0], SIZE[1], 8, 3, 0, 0, 0))
                     + _chunk(b"PLTE", palette))

    def encode(self, band: np.ndarray, key: str) -> bytes:
        strip = self.strip.copy()
        strip[:, 1 + MARGIN:1 + MARGIN + BAND[0]] = band
        middle = strip.tobytes()
        adler = zlib.adler32(self.bottom, zlib.adler32(middle, self.top_adler))
        data = (b"\x78\x01" + self.top_z + _deflate(middle, zlib.Z_SYNC_FLUSH, level=1)
                + self.bottom_z + struct.pack(">I", adler))
        return (self.head + _chunk(b"tEXt", KEY_CHUNK.encode() + b"\0" + key.encode())
                + _chunk(b"IDAT", data) + _chunk(b"IEND", b""))


def _deflate(data: bytes, flush: int, level: int = 9) -> bytes:
    """Raw deflate of `data` from a fresh compressor (nothing refers back past its start)."""
    compressor = zlib.compressobj(level, zlib.DEFLATED, -15)
    return compressor.compress(data) + compressor.flush(flush)


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


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
