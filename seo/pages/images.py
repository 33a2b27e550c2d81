"""Responsive images: each picture under content/images/ becomes WebP plus a JPEG (or PNG, when it
has transparency) fallback at several widths, for `<picture>` with `srcset`/`sizes`.

A variant's file name carries a hash of its source bytes, its role and this module's version
(`/images/clinic-front-3f9a1c2b7d-800.webp`), so it is encoded once: a build finds it in the live
folder and skips it, and re-encodes only when the source file (or the pipeline) changed. Names never
depend on the encoder's output, so pages are the same bytes whatever Pillow version encodes them.
Metadata (EXIF, GPS positions from a phone camera) is never copied into the published files.
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass
from pathlib import Path

from PIL import Image as PILImage
from PIL import ImageOps, UnidentifiedImageError

from ..errors import UserError
from ..settings import Image
from ..site import Site
from .write import SiteWriter

VERSION = "2"  # bump when the encoding below changes (variant names, and so pages, change too)
MAX_PIXELS = 50_000_000  # a larger source is refused (decompression bombs, accidental RAW exports)
FOLDER = "images"


@dataclass(frozen=True)
class Role:
    """How a picture is used: its crop (width / height, None keeps the source's) and widths."""

    name: str
    aspect: float | None
    widths: tuple[int, ...]


ROLES = {
    "hero": Role("hero", 2.0, (480, 800, 1280)),  # shown at most 40rem wide: 1280 covers 2x screens
    "portrait": Role("portrait", 1.0, (112, 256, 512)),  # 56px avatars, 8rem cards, 16rem profiles
    "logo": Role("logo", None, (48, 96, 144)),  # 44px high in the header, at 1x to 3x
    "og": Role("og", 1200 / 630, (1200,)),
}


@dataclass(frozen=True)
class Variant:
    url: str  # "/images/clinic-front-3f9a1c2b7d-800.webp"
    width: int
    height: int
    format: str  # "webp", "jpeg", "png"


@dataclass(frozen=True)
class Picture:
    """What a template needs for one `<picture>`: sources by format, the fallback, the size."""

    alt: str
    width: int  # of the largest variant: with `height`, the aspect ratio that reserves the space
    height: int
    webp: tuple[Variant, ...]
    fallback: tuple[Variant, ...]

    def srcset(self, which: str) -> str:
        variants = self.webp if which == "webp" else self.fallback
        return ", ".join(f"{v.url} {v.width}w" for v in variants)

    @property
    def src(self) -> str:
        return self.fallback[-1].url

    @property
    def fallback_type(self) -> str:
        return f"image/{self.fallback[0].format}"


def _crop_box(width: int, height: int, aspect: float | None) -> tuple[int, int, int, int]:
    if aspect is None:
        return 0, 0, width, height
    if width / height > aspect:  # too wide: trim the sides
        new_w = round(height * aspect)
        left = (width - new_w) // 2
        return left, 0, left + new_w, height
    new_h = round(width / aspect)
    top = (height - new_h) // 2
    return 0, top, width, top + new_h


def _open(path: Path, display: str) -> PILImage.Image:
    try:
        image = PILImage.open(path)
        if image.width * image.height > MAX_PIXELS:
            raise UserError(f"{image.width}x{image.height} pixels is more than "
                            f"{MAX_PIXELS // 1_000_000} megapixels; export a smaller copy",
                            file=display)
        return image
    except (UnidentifiedImageError, PILImage.DecompressionBombError, OSError) as exc:
        raise UserError(f"not a readable JPEG, PNG or WebP image ({exc.__class__.__name__})",
                        file=display) from None


class Images:
    """Every configured picture's variants for one build: encoded only when missing."""

    def __init__(self, site: Site, writer: SiteWriter | None) -> None:
        self.site, self.writer = site, writer  # no writer: names only, nothing encoded
        self.out = writer.out if writer else site.path(site.config.site.output)
        self.names: set[str] = set()  # every variant this build references, relative to the site
        self._pictures: dict[tuple[str, str], Picture] = {}

    def picture(self, image: Image, role: str) -> Picture:
        key = (image.file, role)
        if key not in self._pictures:
            self._pictures[key] = self._prepare(image, ROLES[role])
        return self._pictures[key]

    def _prepare(self, image: Image, role: Role) -> Picture:
        path = self.site.image_path(image)
        display = f"content/images/{image.file}"
        data = path.read_bytes()
        digest = hashlib.sha256(data + f"\0{role.name}\0{VERSION}".encode()).hexdigest()[:10]
        stem = Path(image.file).stem.lower()
        stem = "".join(ch if ch.isalnum() else "-" for ch in stem).strip("-") or "image"
        with _open(path, display) as source:
            source_size = ImageOps.exif_transpose(source).size if _rotated(source) else source.size
            alpha = source.mode in ("RGBA", "LA", "PA") or "transparency" in source.info
        box = _crop_box(*source_size, role.aspect)
        crop_w, crop_h = box[2] - box[0], box[3] - box[1]
        widths = [w for w in role.widths if w < crop_w] + [min(crop_w, role.widths[-1])]
        widths = sorted(set(widths))
        fallback_format = "png" if alpha else "jpeg"
        plans: list[tuple[str, Variant]] = []
        for width in widths:
            height = max(1, round(crop_h * width / crop_w))
            for fmt in ("webp", fallback_format):
                ext = "jpg" if fmt == "jpeg" else fmt
                rel = f"{FOLDER}/{stem}-{digest}-{width}.{ext}"
                plans.append((rel, Variant(f"/{rel}", width, height, fmt)))
        self.names.update(rel for rel, _ in plans)
        missing = [(rel, v) for rel, v in plans if not (self.out / rel).is_file()]
        if missing and self.writer is not None:
            self._encode(path, display, box, alpha, missing)
        variants = [v for _, v in plans]
        webp = tuple(v for v in variants if v.format == "webp")
        fallback = tuple(v for v in variants if v.format != "webp")
        return Picture(alt=image.alt, width=webp[-1].width, height=webp[-1].height, webp=webp,
                       fallback=fallback)

    def _encode(self, path: Path, display: str, box: tuple[int, int, int, int], alpha: bool,
                todo: list[tuple[str, Variant]]) -> None:
        with _open(path, display) as source:
            try:
                upright = ImageOps.exif_transpose(source)
                upright = upright.convert("RGBA" if alpha else "RGB").crop(box)
            except OSError as exc:
                raise UserError(f"cannot decode the image ({exc})", file=display) from None
        assert self.writer is not None
        for rel, variant in todo:
            resized = upright.resize((variant.width, variant.height), PILImage.Resampling.LANCZOS,
                                     reducing_gap=3.0)
            self.writer.put(rel, encode(resized, variant.format))

    def prune(self) -> None:
        """Delete variants no page uses any more (only files in the build's own images folder)."""
        folder = self.out / FOLDER
        if folder.is_dir() and self.writer is not None:
            for path in sorted(folder.iterdir()):
                rel = f"{FOLDER}/{path.name}"
                if path.is_file() and rel not in self.names:
                    self.writer.delete(rel)


def _rotated(image: PILImage.Image) -> bool:
    try:
        return image.getexif().get(0x0112, 1) in (5, 6, 7, 8)  # EXIF orientation: 90 degrees turned
    except (OSError, ValueError):
        return False


def encode(image: PILImage.Image, fmt: str) -> bytes:
    """Deterministic bytes for a given Pillow build: no metadata, fixed settings."""
    buffer = io.BytesIO()
    if fmt == "webp":
        image.save(buffer, "WEBP", quality=80, method=4, exact=False)
    elif fmt == "jpeg":
        image.save(buffer, "JPEG", quality=82, optimize=True, progressive=True)
    else:
        image.save(buffer, "PNG", optimize=True)
    return buffer.getvalue()
