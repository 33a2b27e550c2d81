"""Placeholder pictures for a clinic that has not sent its own yet (`seo pages placeholders`).

A logo drawn from the business name and colors, an illustration of a clinic front, and a
silhouette per practitioner, each plainly labeled "Example" so nobody mistakes it for a photo.
Written only where config names an image file that does not exist; never over an existing file.
Mark the config entries `!example` so that `seo check` lists them and `seo publish` refuses until
real pictures replace them. Deterministic: the same config draws the same bytes.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

from PIL import Image as PILImage
from PIL import ImageDraw, ImageFont

from ..atomic import atomic_write
from ..errors import UserError
from ..settings import Image, SiteConfig
from ..validate import validate_model
from ..yamlio import load_yaml

WHITE = (255, 255, 255)


def _rgb(hex_color: str) -> tuple[int, int, int]:
    return int(hex_color[1:3], 16), int(hex_color[3:5], 16), int(hex_color[5:7], 16)


def _mix(a, b, t: float) -> tuple[int, int, int]:
    return tuple(round(x + (y - x) * t) for x, y in zip(a, b, strict=True))  # type: ignore[return-value]


def _font(size: int):
    return ImageFont.load_default(size=size)


def initials(name: str) -> str:
    words = [w for w in name.replace("-", " ").split() if w[:1].isalpha()]
    return "".join(w[0].upper() for w in words[:2]) or "?"


def logo(name: str, color: str, accent: str, size: int = 512) -> PILImage.Image:
    """A monogram: the name's initials on a rounded square of the brand color, accent underline."""
    image = PILImage.new("RGBA", (size, size), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    draw.rounded_rectangle((0, 0, size - 1, size - 1), radius=size // 6, fill=_rgb(color))
    draw.text((size / 2, size * 0.47), initials(name), font=_font(round(size * 0.42)), fill=WHITE,
              anchor="mm", stroke_width=max(1, size // 128), stroke_fill=WHITE)
    bar = size * 0.22
    draw.rounded_rectangle((bar, size * 0.74, size - bar, size * 0.78), radius=size // 64,
                           fill=_rgb(accent))
    return image


def _label(draw: ImageDraw.ImageDraw, width: int, height: int, text: str, size: int) -> None:
    """A dark tag near the top left, inside what a 2:1 or square crop keeps."""
    font = _font(size)
    pad = size // 2
    box = draw.textbbox((0, 0), text, font=font)
    w, h = box[2] - box[0], box[3] - box[1]
    top = round(height * 0.15)
    draw.rounded_rectangle((2 * pad, top, 4 * pad + w, top + h + 2 * pad), radius=pad // 2,
                           fill=(20, 20, 20))
    draw.text((3 * pad, top + pad - box[1]), text, font=font, fill=WHITE)


def clinic_front(name: str, color: str, accent: str, width: int = 1600,
                 height: int = 1067) -> PILImage.Image:
    """An illustration of a clinic front under the Front Range, labeled as an example."""
    brand, warm = _rgb(color), _rgb(accent)
    image = PILImage.new("RGB", (width, height), (206, 226, 240))
    draw = ImageDraw.Draw(image)
    for y in range(height // 2):  # sky: lighter toward the horizon
        draw.line((0, y, width, y), fill=_mix((150, 196, 230), (226, 238, 246), y / (height / 2)))
    u = width / 100
    ridge = [(0, 50), (7, 34), (14, 42), (26, 20), (36, 38), (46, 30), (55, 40), (66, 22), (76, 36),
             (86, 27), (93, 38), (100, 32), (100, 60), (0, 60)]
    draw.polygon([(x * u, y * height / 100) for x, y in ridge], fill=(120, 138, 160))
    for px, py in ((26, 20), (66, 22), (86, 27)):  # snow on the peaks
        cap = [(px - 2.4, py + 4), (px, py), (px + 2.6, py + 4.2), (px + 0.6, py + 3)]
        draw.polygon([(x * u, y * height / 100) for x, y in cap], fill=WHITE)
    ground = height * 0.78
    draw.rectangle((0, height * 0.58, width, ground), fill=(168, 186, 140))
    draw.rectangle((0, ground, width, height), fill=(196, 196, 190))
    left, right, top = 22 * u, 78 * u, height * 0.36
    draw.rectangle((left, top, right, ground), fill=(236, 228, 214))
    draw.rectangle((left - u, top - height * 0.03, right + u, top), fill=brand)
    sign_font = _font(round(height * 0.055))
    draw.text(((left + right) / 2, top + height * 0.075), name, font=sign_font, fill=brand,
              anchor="mm", stroke_width=1, stroke_fill=brand)
    for x in (26 * u, 38 * u, 64 * u):  # windows either side of the door
        draw.rectangle((x, top + height * 0.15, x + 10 * u, top + height * 0.3), fill=(120, 160, 190),
                       outline=brand, width=max(2, width // 400))
    door_l = 51 * u
    draw.rectangle((door_l, top + height * 0.17, door_l + 8 * u, ground), fill=brand)
    draw.ellipse((door_l + 6 * u, top + height * 0.3, door_l + 7 * u, top + height * 0.3 + u),
                 fill=warm)
    draw.rectangle((door_l - u, ground, door_l + 9 * u, ground + height * 0.02), fill=(150, 150, 146))
    for cx in (12 * u, 89 * u):  # trees
        draw.rectangle((cx - u * 0.6, ground - height * 0.12, cx + u * 0.6, ground), fill=(110, 84, 60))
        draw.ellipse((cx - 6 * u, ground - height * 0.3, cx + 6 * u, ground - height * 0.1),
                     fill=(74, 120, 80))
    _label(draw, width, height, "Example image: replace with a photo of your clinic", width // 36)
    return image


def silhouette(color: str, background: str, size: int = 800) -> PILImage.Image:
    """A head-and-shoulders silhouette in the brand colors (plainly not a photo of anyone)."""
    image = PILImage.new("RGB", (size, size), _rgb(background))
    draw = ImageDraw.Draw(image)
    figure = _mix(_rgb(color), _rgb(background), 0.35)
    draw.ellipse((size * 0.33, size * 0.16, size * 0.67, size * 0.54), fill=figure)
    draw.ellipse((size * 0.14, size * 0.6, size * 0.86, size * 1.3), fill=figure)
    return image


@dataclass
class Written:
    path: str
    what: str


def _encode(image: PILImage.Image, file: str) -> bytes:
    buffer = io.BytesIO()
    suffix = file.lower().rsplit(".", 1)[-1]
    if suffix == "png":
        image.save(buffer, "PNG", optimize=True)
    elif suffix == "webp":
        image.save(buffer, "WEBP", quality=88)
    else:
        image.convert("RGB").save(buffer, "JPEG", quality=88, optimize=True)
    return buffer.getvalue()


def write_placeholders(root: Path | str = ".") -> list[Written]:
    """Draw a placeholder for every image config names that is missing; returns what was written.

    Reads only config/site.yaml (not the whole site, which refuses to load with an image missing).
    """
    root = Path(root).resolve()
    config = validate_model(SiteConfig, load_yaml(root / "config/site.yaml", "config/site.yaml"))
    biz, theme = config.business, config.site.theme
    color = config.site.theme_color
    todo: list[tuple[Image, str, str]] = []  # (image, kind, description)
    if biz.logo:
        todo.append((biz.logo, "logo", "logo"))
    for loc in config.locations:
        todo += [(photo, "clinic", f"photo of {loc.name}") for photo in loc.photos]
    for person in biz.practitioners:
        if person.photo:
            todo.append((person.photo, "person", f"photo of {person.name}"))
    folder = root / "content/images"
    written: list[Written] = []
    for image, kind, what in todo:
        path = folder / image.file
        if path.exists() or path.is_symlink():
            continue
        if not path.parent.resolve().is_relative_to(folder.resolve()):
            raise UserError(f"{image.file} points outside content/images/", file="config/site.yaml")
        if kind == "logo":
            picture = logo(biz.name, color, theme.accent)
        elif kind == "clinic":
            picture = clinic_front(biz.name, color, theme.accent)
        else:
            picture = silhouette(color, theme.background)
        atomic_write(path, _encode(picture, image.file))
        path.chmod(0o644)
        written.append(Written(f"content/images/{image.file}", what))
    return written
