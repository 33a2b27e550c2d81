"""A Hugo site with the same pages as an seo project: the same count, the same text.

For Debian's `hugo` (0.111): every town x condition page as a content file (the condition's text,
the town's note and the page's own note in Markdown, the town's facts as front matter), each town a
section listing its condition pages, each condition a page, the home and areas-we-serve pages.
Layouts (bench/hugo_layouts/) in the spirit of the project's templates: head with meta and
canonical, inline CSS, JSON-LD, breadcrumbs, facts list, nearby towns, related conditions, footer
with address and links.
Taxonomies, RSS and the 404 page are off (the project makes none); the sitemap stays on.

    python bench/hugo_site.py PROJECT_ROOT OUT_DIR
"""

from __future__ import annotations

import json
import math
import re
import shutil
import sys
from pathlib import Path

import yaml

LAYOUTS = Path(__file__).resolve().parent / "hugo_layouts"  # baseof, single, list, areas, home
CONFIG = """baseURL = "https://clinic.example/"
languageCode = "en-us"
title = "Acupuncture Clinic"
disableKinds = ["taxonomy", "term", "RSS", "404"]
[markup.goldmark.renderer]
unsafe = false
"""


class _Loader(yaml.SafeLoader):
    """Reads the project's `!example` values as plain ones."""


_Loader.add_constructor("!example", lambda loader, node: (
    loader.construct_scalar(node) if isinstance(node, yaml.ScalarNode) else
    loader.construct_sequence(node) if isinstance(node, yaml.SequenceNode) else
    loader.construct_mapping(node)))


def _yaml(text: str) -> dict:
    return yaml.load(text, Loader=_Loader)  # a SafeLoader subclass


def _front(meta: dict, body: str) -> str:
    return "---\n" + json.dumps(meta, ensure_ascii=False, indent=0) + "\n---\n" + body + "\n"


def _miles(a: dict, b: dict) -> float:
    la1, lo1, la2, lo2 = map(math.radians, (a["lat"], a["lng"], b["lat"], b["lng"]))
    h = math.sin((la2 - la1) / 2) ** 2 + math.cos(la1) * math.cos(la2) * math.sin((lo2 - lo1) / 2) ** 2
    return 2 * 3958.8 * math.asin(math.sqrt(h))


def _bullets(items: list[str]) -> str:
    return "\n".join(f"- {i}" for i in items)


def generate(project: Path, out: Path) -> int:
    """Write the Hugo site; returns the number of HTML pages it will build."""
    shutil.rmtree(out, ignore_errors=True)
    shutil.copytree(LAYOUTS, out / "layouts")
    (out / "layouts/partials").mkdir(parents=True)
    (out / "content/conditions").mkdir(parents=True)
    (out / "config.toml").write_text(CONFIG)
    css = (project / "templates/site.css.j2") if (project / "templates/site.css.j2").exists() else \
        Path(__file__).resolve().parent.parent / "templates/site.css.j2"
    (out / "layouts/partials/css.html").write_text(re.sub(r"{[{%#].*?[}%#]}", "", css.read_text()))

    towns = _yaml((project / "config/towns.yaml").read_text())["towns"]
    site = _yaml((project / "config/site.yaml").read_text())
    clinic = site["locations"][0]["geo"]
    conditions = []
    for path in sorted((project / "content/conditions").glob("*.md")):
        _, front, body = path.read_text().split("---\n", 2)
        conditions.append((_yaml(front), body))
    names = {m["slug"]: m["name"] for m, _ in conditions}
    for meta, body in conditions:
        related = [{"name": names[r], "url": f"/conditions/{r}/"} for r in meta.get("related", [])]
        text = (f"{meta['summary']}\n\n## Symptoms\n\n{_bullets(meta['symptoms'])}\n\n## Causes\n\n"
                f"{_bullets(meta['causes'])}\n\n## Treatment\n\n{_bullets(meta['treatment'])}\n\n{body}")
        (out / f"content/conditions/{meta['slug']}.md").write_text(_front(
            {"title": f"Acupuncture for {meta['name']}", "description": meta["summary"][:150],
             "condition": meta["name"], "related": related}, text))
    (out / "content/conditions/_index.md").write_text(_front(
        {"title": "Conditions", "_build": {"render": "never", "list": "always"}}, ""))
    (out / "content/_index.md").write_text(_front({"title": "Acupuncture south of Denver",
                                                   "description": "Acupuncture for pain."},
                                                  "We treat back, neck and shoulder pain."))
    (out / "content/areas-we-serve.md").write_text(_front(
        {"title": "Areas we serve", "layout": "areas", "description": "Distances and drive times."}, ""))
    by_slug = {t["slug"]: t for t in towns}
    for town in towns:
        slug = town["slug"]
        folder = out / "content" / slug
        folder.mkdir()
        miles = round(_miles(clinic, town["geo"]) * 1.3, 1)
        facts = [town["county"], f"{miles} miles", *town["neighborhoods"], *town["roads"],
                 *town["landmarks"], *town["zip_codes"]]
        near = sorted(by_slug, key=lambda s: _miles(town["geo"], by_slug[s]["geo"]))[1:4]
        nearby = [{"slug": s, "name": by_slug[s]["name"]} for s in near]
        note_path = project / "content/towns" / f"{slug}.md"
        note = note_path.read_text() if note_path.exists() else ""
        (folder / "_index.md").write_text(_front(
            {"title": f"Acupuncture in {town['name']}", "description": f"Acupuncture for {town['name']}",
             "county": town["county"], "miles": miles, "facts": facts}, note))
        for meta, _ in conditions:
            own = project / "content/towns" / slug / f"{meta['slug']}.md"
            text = (f"{meta['summary']}\n\n## Symptoms\n\n{_bullets(meta['symptoms'])}\n\n"
                    f"## Treatment\n\n{_bullets(meta['treatment'])}\n\n{meta['what_to_expect']}\n\n"
                    f"## In {town['name']}\n\n{note}\n\n{own.read_text() if own.exists() else ''}")
            (folder / f"{meta['slug']}.md").write_text(_front(
                {"title": f"{meta['name']} acupuncture in {town['name']}",
                 "description": meta["summary"][:150], "condition": meta["name"],
                 "condition_slug": meta["slug"], "facts": facts, "nearby": nearby,
                 "related": [{"name": names[r], "url": f"/{slug}/{r}/"} for r in meta.get("related", [])]},
                text))
    return 2 + len(conditions) + len(towns) * (1 + len(conditions))


if __name__ == "__main__":
    print(generate(Path(sys.argv[1]), Path(sys.argv[2])))
