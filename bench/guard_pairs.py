"""The doorway guard's figures for a built site, measured exactly over every pair of pages.

    python bench/guard_pairs.py ROOT        # after `seo pages build --root ROOT`

Prints the most similar pairs (masked Jaccard of 5-word shingles of <main>, the guard's own
measure), the highest town x condition page against its own town hub, and the share of each town x
condition page's shingles that appear on no other page. O(pages^2): for a clinic, not an agency.
"""

from __future__ import annotations

import sys
from collections import Counter
from itertools import combinations
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from seo.pages import guard  # noqa: E402
from seo.pages.plan import plan_site  # noqa: E402
from seo.site import load_site  # noqa: E402


def main(root: Path) -> None:
    site = load_site(root)
    out = site.path(site.config.site.output)
    items = [(p.key, p.kind, (out / p.file).read_text(encoding="utf-8"),
              site.town(p.town) if p.town else None) for p in plan_site(site)]
    pages = guard.analyse_many(items, site.config.site.guard.shingle_size, guard.Vocabulary())
    kinds = {p.key: p.kind for p in pages}
    sims = sorted(((guard.jaccard(a.shingles, b.shingles), a.key, b.key)
                   for a, b in combinations(pages, 2)), reverse=True)
    for sim, a, b in sims[:10]:
        print(f"{sim:.3f}  {a}  {b}")
    hub = [sim for sim, a, b in sims if {kinds[a], kinds[b]} == {"town", "town_condition"}
           and (a.startswith(b) or b.startswith(a))]
    print(f"highest pair: {sims[0][0]:.3f}")
    if hub:
        print(f"town x condition page vs its hub: highest {max(hub):.3f}, mean {sum(hub) / len(hub):.3f}")
    sets = {p.key: set(p.shingles.tolist()) for p in pages}
    seen = Counter(s for shingles in sets.values() for s in shingles)
    own = [sum(seen[s] == 1 for s in sets[k]) / len(sets[k]) for k in sets
           if kinds[k] == "town_condition" and sets[k]]
    if own:
        print(f"town x condition pages' own shingles: mean {sum(own) / len(own):.0%}, "
              f"lowest {min(own):.0%}")


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "."))
