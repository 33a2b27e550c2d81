"""A synthetic agency-scale project: N towns x M conditions with unique, realistic-length text.

Every town gets its own facts and notes, every town x condition page its own note, written from a
seeded pseudo-word generator so that the pages are genuinely distinct (as a real agency's should
be) and the doorway guard passes them. Deterministic for a given seed.

    python bench/agency.py OUT_DIR --towns 1000 --conditions 10
"""

from __future__ import annotations

import argparse
import random
import shutil
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parent.parent
SYLLABLES = [c + v for c in "bdfklmnprstvz" for v in "aeiou"]


class Words:
    def __init__(self, rng: random.Random) -> None:
        self.rng = rng

    def word(self) -> str:
        return "".join(self.rng.choice(SYLLABLES) for _ in range(self.rng.randint(1, 3)))

    def name(self) -> str:
        return " ".join(self.word().title() for _ in range(self.rng.randint(1, 2)))

    def sentence(self) -> str:
        return " ".join(self.word() for _ in range(self.rng.randint(8, 16))).capitalize() + "."

    def prose(self, words: int) -> str:
        out, count = [], 0
        while count < words:
            s = self.sentence()
            out.append(s)
            count += s.count(" ") + 1
        return " ".join(out)


def generate(out: Path, towns: int, conditions: int, seed: int = 7) -> Path:
    rng = random.Random(seed)
    w = Words(rng)
    if out.exists():
        shutil.rmtree(out)
    (out / "config").mkdir(parents=True)
    (out / "content/conditions").mkdir(parents=True)
    (out / "content/towns").mkdir(parents=True)
    site = yaml.safe_load((REPO / "tests/fixtures/mini/config/site.yaml").read_text())
    site["site"]["guard"]["min_local_facts"] = 6
    # pictures as a real clinic has them: a logo, a clinic photo, a practitioner portrait
    shutil.copytree(REPO / "content/images", out / "content/images")
    site["business"]["logo"] = {"file": "logo.png", "alt": "Logo"}
    site["business"]["practitioners"][0]["photo"] = {"file": "practitioners/lead-acupuncturist.jpg",
                                                     "alt": "Pat Tester"}
    site["locations"][0]["photos"] = [{"file": "parker-clinic.jpg", "alt": "The clinic"}]
    (out / "config/site.yaml").write_text(yaml.safe_dump(site, sort_keys=False))
    cond_slugs = [f"condition-{i:02d}" for i in range(conditions)]
    for i, slug in enumerate(cond_slugs):
        meta = {
            "name": f"{w.name()} Pain", "slug": slug, "short_name": f"{w.word()} pain",
            "synonyms": [w.word() for _ in range(2)], "summary": w.prose(40),
            "symptoms": [w.sentence() for _ in range(5)], "causes": [w.sentence() for _ in range(4)],
            "tcm_view": w.prose(70), "treatment": [w.sentence() for _ in range(5)],
            "what_to_expect": w.prose(50), "sessions": w.prose(45),
            "self_care": [w.sentence() for _ in range(3)],
            "related": [cond_slugs[(i + 1) % conditions], cond_slugs[(i + 2) % conditions]],
            "reviewed": {"date": "2026-10-01", "by": "doc"},
        }
        body = "\n\n".join(f"## {w.name()}\n\n{w.prose(80)}" for _ in range(4))
        (out / f"content/conditions/{slug}.md").write_text(
            "---\n" + yaml.safe_dump(meta, sort_keys=False) + "---\n" + body + "\n")
    town_list = []
    for t in range(towns):
        slug = f"town-{t:04d}"
        town_list.append({
            "name": f"{w.name()} {t}", "slug": slug, "state": "CO", "county": f"{w.name()} County",
            "geo": {"lat": round(39.0 + rng.random() * 2, 4), "lng": round(-106 + rng.random() * 2, 4)},
            "served_by": "main", "neighborhoods": [w.name() for _ in range(4)],
            "roads": [f"{w.name()} Road" for _ in range(3)], "landmarks": [w.name() for _ in range(3)],
            "zip_codes": [f"8{rng.randint(1000, 9999)}"],
        })
        (out / f"content/towns/{slug}.md").write_text(w.prose(170) + "\n")
        (out / f"content/towns/{slug}").mkdir()
        for c in cond_slugs:
            (out / f"content/towns/{slug}/{c}.md").write_text(w.prose(110) + "\n")
    (out / "config/towns.yaml").write_text(yaml.safe_dump({"towns": town_list}, sort_keys=False))
    return out


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--towns", type=int, default=1000)
    parser.add_argument("--conditions", type=int, default=10)
    args = parser.parse_args()
    print(generate(args.out, args.towns, args.conditions))
