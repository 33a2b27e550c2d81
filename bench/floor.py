"""The floor for `seo pages build`, as a whole process: load the same project, then render the same
pages through the same Jinja2 templates and write them, and nothing else (no doorway guard, no
store, no incremental bookkeeping, no atomic swap, no sitemap, one process).

    python bench/floor.py ROOT OUT_DIR

Prints its own phases (seconds) as JSON on the last line.
"""

from __future__ import annotations

import json
import shutil
import sys
import time
from pathlib import Path

START = time.perf_counter()


def main(root: str, out: str) -> None:
    from seo.pages.plan import plan_site
    from seo.pages.render import Renderer
    from seo.site import load_site

    imported = time.perf_counter()
    site = load_site(root)
    loaded = time.perf_counter()
    renderer = Renderer(site)
    folder = Path(out)
    shutil.rmtree(folder, ignore_errors=True)
    pages = plan_site(site)
    made: set[Path] = set()
    for page in pages:
        ctx = renderer.context(page)
        ctx["robots"], ctx["canonical"] = "index, follow", ctx["url"]
        html = renderer.env.get_template(page.template).render(ctx)
        target = folder / page.file
        if target.parent not in made:
            target.parent.mkdir(parents=True, exist_ok=True)
            made.add(target.parent)
        target.write_text(html, encoding="utf-8")
    done = time.perf_counter()
    print(json.dumps({"pages": len(pages), "import": round(imported - START, 3),
                      "load": round(loaded - imported, 3), "render_write": round(done - loaded, 3)}))


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    main(sys.argv[1], sys.argv[2])
