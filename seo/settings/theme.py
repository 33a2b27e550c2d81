"""How the site looks and reads: fonts, colors (contrast checked), site options."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import (
    AliasChoices,
    Field,
    field_validator,
    model_validator,
)

from .base import (
    ContentFile,
    Strict,
)
from .publish import (
    FolderTarget,
    GuardSettings,
    PublishTargets,
)

COLOR = r"^#[0-9a-fA-F]{6}$"
FONT_STACK = "^[A-Za-z0-9 ,'\"-]+$"  # family names, commas, quotes: nothing that could end a CSS rule


class FontFace(Strict):
    """A self-hosted web font file (content/fonts/), served from the site itself."""

    family: Annotated[str, Field(pattern=r"^[A-Za-z0-9 -]+$")]
    file: ContentFile  # relative to content/fonts/; .woff2
    weight: Annotated[str, Field(pattern=r"^[1-9]00( [1-9]00)?$")] = "400"
    style: Literal["normal", "italic"] = "normal"

    @field_validator("file")
    @classmethod
    def _woff2(cls, value: str) -> str:
        if not value.endswith(".woff2"):
            raise ValueError(f"{value!r}: web fonts must be .woff2 files")
        return value


class Theme(Strict):
    """The clinic's look: colors and fonts (system fonts unless `fonts` are given)."""

    accent: Annotated[str, Field(pattern=COLOR)] = "#a8571a"  # buttons, highlights
    background: Annotated[str, Field(pattern=COLOR)] = "#f4f1ea"  # the hero and card panels
    font: Annotated[str, Field(pattern=FONT_STACK)] = (
        'system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif')
    heading_font: Annotated[str, Field(pattern=FONT_STACK)] = ""  # default: `font`
    fonts: list[FontFace] = Field(default=[], max_length=4)
    og_image: Literal["card", "photo"] = "card"  # social preview: title card, or the clinic photo


def contrast(a: str, b: str) -> float:
    """WCAG contrast ratio of two #rrggbb colors (1 to 21)."""
    def luminance(color: str) -> float:
        channels = [int(color[i:i + 2], 16) / 255 for i in (1, 3, 5)]
        lin = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
        return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]
    hi, lo = sorted((luminance(a), luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


class SiteOptions(Strict):
    locale: Literal["en-US", "en-GB"] = Field(default="en-US",
                                              validation_alias=AliasChoices("locale", "language"))
    spelling_allow: list[str] = []  # words the spelling lint accepts (names it can't tell)
    theme: Theme = Theme()
    output: str = "build/site"
    store: str = "sqlite:///build/seo.sqlite3"
    # PostgreSQL only: this project's tables in a schema of their own, so that several projects
    # (an agency's clients) share one database without their data mixing; created if missing
    store_schema: str | None = Field(default=None, pattern=r"^[a-z_][a-z0-9_]{0,62}$")
    nearby_towns: int = Field(default=3, ge=0, le=10)
    guard: GuardSettings = GuardSettings()
    publish: PublishTargets = [FolderTarget()]
    theme_color: str = Field(default="#1f5f4a", pattern=COLOR)  # the main brand color

    @property
    def language(self) -> str:
        return self.locale

    @model_validator(mode="after")
    def _readable(self) -> SiteOptions:
        """The brand color carries white text (header, buttons) and is the link and heading color
        on white and on the panel: each pair needs WCAG AA contrast (4.5:1)."""
        pairs = [("theme_color", self.theme_color, "#ffffff", "white text"),
                 ("theme_color", self.theme_color, self.theme.background, "theme.background"),
                 ("theme.background", self.theme.background, "#1b1b1b", "body text")]
        for key, color, other, what in pairs:
            ratio = contrast(color, other)
            if ratio < 4.5:
                raise ValueError(f"{key}: {color} against {what} ({other}) has contrast "
                                 f"{ratio:.1f}:1; text needs at least 4.5:1 (pick a darker or "
                                 "lighter shade)")
        return self
