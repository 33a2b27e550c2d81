"""Reply templates by star rating: Jinja in config (`integrations.gbp.reviews.templates`), rendered
in a sandboxed environment (config is outside text too) as plain text, with no autoescape since
the reply is not HTML. The privacy lint applies to the rendered text, never to the template.

The context holds no review text and no reviewer name: a template cannot quote the reviewer, and
nothing the reviewer wrote can reach a reply or act as an instruction.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any

import jinja2
from jinja2.sandbox import SandboxedEnvironment

from ..errors import UserError
from ..settings import GbpReviews
from ..site import Site

# Lint-clean defaults: thank, never confirm; for low ratings, take it offline without details.
DEFAULTS: dict[int, list[str]] = {
    5: ["Thank you so much for the {{ 'wonderful review' if has_text else 'five-star rating' }}! "
        "We truly appreciate you taking the time to share it.",
        "Thank you for {{ 'the kind words and ' if has_text }}the five stars! Reviews like this "
        "help people in our community find us."],
    4: ["Thank you for the {{ 'review and the kind words' if has_text else 'four-star rating' }}. "
        "We appreciate the feedback and we are always working to improve."],
    3: ["Thank you for the feedback. We are always looking for ways to improve, and we would "
        "welcome the chance to hear more: please contact our office manager directly."],
    2: ["We are sorry to read this. We take all feedback seriously, but privacy rules keep us "
        "from discussing any details here. Please contact our office manager directly so we can "
        "listen and make things right."],
    1: ["We are sorry to read this. We take all feedback seriously, but privacy rules keep us "
        "from discussing any details here. Please contact our office manager directly so we can "
        "listen and make things right."],
}
FILE = "config/site.yaml"


def environment() -> SandboxedEnvironment:
    return SandboxedEnvironment(autoescape=False, undefined=jinja2.StrictUndefined,
                                trim_blocks=True, lstrip_blocks=True)


def variants(cfg: GbpReviews, stars: int) -> list[str]:
    return cfg.templates.get(stars) or DEFAULTS[stars]


def pick(options: list[str], review_name: str) -> tuple[int, str]:
    """The same variant for the same review every time (no randomness in output)."""
    index = int(hashlib.sha256(review_name.encode()).hexdigest(), 16) % len(options)
    return index, options[index]


def render_reply(site: Site, cfg: GbpReviews, stars: int | None, review_name: str,
                 location_id: str, has_text: bool) -> str:
    """The proposed reply for a review; stars unknown are answered as 3."""
    rating = stars if stars in (1, 2, 3, 4, 5) else 3
    index, source = pick(variants(cfg, rating), review_name)
    key = f"integrations.gbp.reviews.templates.{rating}" + (f"[{index}]" if index else "")
    loc = next((x for x in site.config.locations if x.id == location_id), None)
    context: dict[str, Any] = {
        "business": site.config.business.name, "stars": rating, "has_text": has_text,
        "location": loc.name if loc else site.config.business.name,
        "town": loc.address.locality if loc else ""}
    try:
        text = environment().from_string(source).render(context)
    except jinja2.TemplateError as exc:  # SecurityError and UndefinedError included
        raise UserError(f"reply template: {type(exc).__name__}: {exc}", file=FILE,
                        key=key) from None
    return finish(text, cfg.signature)


def finish(text: str, signature: str = "") -> str:
    """Tidy whitespace: lines stripped, at most one blank line in a row, the signature last."""
    lines = [" ".join(line.split()) for line in text.strip().splitlines()]
    out = re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()
    if signature.strip():
        out += "\n" + " ".join(signature.split())
    return out
