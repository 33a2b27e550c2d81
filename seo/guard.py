"""Doorway guard: near-duplicate pages and pages without enough local facts are not indexable.

Similarity is the Jaccard resemblance of the sets of word k-shingles of each page's <main>, after
the town's own words (name, county, neighbourhoods, roads, landmarks, ZIP codes) and every number
are masked, so swapping "Aurora" for "Parker" cannot hide a duplicate.

All pairs are compared through MinHash signatures with LSH banding (32 bands x 4 rows), and each
candidate pair above the reporting floor is then measured exactly. Cost grows with the number of
pages, not with its square, so an agency site of 10,000 pages is checked in seconds.
"""

from __future__ import annotations

import html
import io
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .site import Town

MASK = "\x00"
HUB_KINDS = ("home", "areas", "condition")
NUM_PERM, BANDS = 128, 32
ROWS = NUM_PERM // BANDS
_TOKEN = re.compile(r"[a-z0-9][a-z0-9'’]*")
_TAG = re.compile(r"<[^>]+>")
_NUMBERISH = re.compile(r"[a-z0-9'’]*[0-9][a-z0-9'’]*")
_SEEDS = np.random.default_rng(20261121).integers(1, 2**63 - 1, size=NUM_PERM, dtype=np.uint64) | 1
_BAND_MIX = np.array([0x9E3779B97F4A7C15, 0xC2B2AE3D27D4EB4F, 0x165667B19E3779F9,
                      0x27D4EB2F165667C5], dtype=np.uint64)


def main_text(page_html: str) -> str:
    start = page_html.find("<main")
    end = page_html.find("</main>", start)
    body = page_html[start:end] if start >= 0 and end > start else page_html
    return html.unescape(_TAG.sub(" ", body))


def town_words(town: Town | None) -> frozenset[str]:
    if town is None:
        return frozenset()
    c = town.config
    words: set[str] = set()
    for phrase in [c.name, c.county, c.state, *c.neighbourhoods, *c.roads, *c.landmarks]:
        words.update(_TOKEN.findall(phrase.lower()))
    # "the", "of", "and" inside a landmark's name are not the town's own words
    return frozenset(words - {"the", "of", "and", "a", "city", "county", "park", "road", "street"})


def tokens(text: str, masked: frozenset[str]) -> list[str]:
    """Lower-case word tokens; the town's own words and anything with a digit become MASK."""
    text = _NUMBERISH.sub(" 0 ", text.lower())
    return [MASK if tok in masked or tok == "0" else tok for tok in _TOKEN.findall(text)]


class Vocabulary:
    """Cache of token -> stable 64-bit hash, shared by all pages of one build."""

    def __init__(self) -> None:
        self.ids: dict[str, int] = {}

    def encode(self, toks: list[str]) -> np.ndarray:
        ids = self.ids
        for tok in set(toks).difference(ids):
            ids[tok] = _stable_hash(tok)
        return np.fromiter(map(ids.__getitem__, toks), dtype=np.uint64, count=len(toks))


def _stable_hash(token: str) -> int:
    h = 1469598103934665603
    for byte in token.encode():
        h = ((h ^ byte) * 1099511628211) & 0xFFFFFFFFFFFFFFFF
    return h


def shingles(ids: np.ndarray, k: int) -> np.ndarray:
    """Unique sorted uint64 hashes of every k-token window."""
    if len(ids) < k:
        return np.unique(ids.astype(np.uint32)) if len(ids) else np.zeros(0, dtype=np.uint32)
    with np.errstate(over="ignore"):
        acc = np.zeros(len(ids) - k + 1, dtype=np.uint64)
        for j in range(k):
            acc = acc * np.uint64(0x100000001B3) + ids[j: len(ids) - k + 1 + j]
    return np.unique(acc.astype(np.uint32))  # 32-bit: half the memory; collisions negligible


def minhash(sh: np.ndarray) -> np.ndarray:
    if len(sh) == 0:
        return np.full(NUM_PERM, np.iinfo(np.uint64).max, dtype=np.uint64)
    with np.errstate(over="ignore"):
        x = sh.astype(np.uint64)[:, None] ^ _SEEDS[None, :]
        x = x * np.uint64(0xBF58476D1CE4E5B9)
        x ^= x >> np.uint64(31)
    return x.min(axis=0)


@dataclass
class GuardPage:
    key: str
    kind: str
    shingles: np.ndarray
    signature: np.ndarray
    facts: int
    needs_facts: bool


@dataclass
class Verdict:
    indexable: bool = True
    similarity: float = 0.0
    twin: str | None = None
    facts: int = 0
    reasons: list[str] = field(default_factory=list)  # why the page is not indexable
    warnings: list[str] = field(default_factory=list)  # reported, page stays indexable


def analyse(key: str, kind: str, page_html: str, town: Town | None, k: int,
            vocab: Vocabulary) -> GuardPage:
    text = main_text(page_html)
    sh = shingles(vocab.encode(tokens(text, town_words(town))), k)
    lowered = text.lower()
    facts = sum(1 for fact in (town.facts() if town else []) if fact.lower() in lowered)
    return GuardPage(key=key, kind=kind, shingles=sh, signature=minhash(sh), facts=facts,
                     needs_facts=kind in ("town", "town_condition"))


def jaccard(a: np.ndarray, b: np.ndarray) -> float:
    if len(a) == 0 or len(b) == 0:
        return 0.0
    inter = len(np.intersect1d(a, b, assume_unique=True))
    return inter / (len(a) + len(b) - inter)


def candidate_pairs(signatures: np.ndarray) -> np.ndarray:
    """Pairs (i < j) sharing at least one LSH band, as an (n, 2) int64 array."""
    n = len(signatures)
    found: list[np.ndarray] = []
    with np.errstate(over="ignore"):
        for band in range(BANDS):
            block = signatures[:, band * ROWS:(band + 1) * ROWS]
            keys = (block * _BAND_MIX[None, :ROWS]).sum(axis=1, dtype=np.uint64)
            order = np.argsort(keys, kind="stable")
            sorted_keys = keys[order]
            starts = np.flatnonzero(np.r_[True, sorted_keys[1:] != sorted_keys[:-1]])
            ends = np.r_[starts[1:], n]
            for s, e in zip(starts, ends, strict=True):
                if e - s < 2:
                    continue
                members = np.sort(order[s:e])
                ii, jj = np.triu_indices(len(members), k=1)
                found.append(members[ii] * n + members[jj])
    if not found:
        return np.zeros((0, 2), dtype=np.int64)
    codes = np.unique(np.concatenate(found))
    return np.stack([codes // n, codes % n], axis=1)


def judge(pages: list[GuardPage], threshold: float, min_facts: int) -> dict[str, Verdict]:
    """A verdict per page: similarity to its nearest twin, local facts, indexable or not."""
    verdicts = {p.key: Verdict(facts=p.facts) for p in pages}
    if len(pages) > 1:
        sigs = np.stack([p.signature for p in pages])
        pairs = candidate_pairs(sigs)
        floor = threshold - 0.1  # MinHash estimate's error at 128 permutations is ~0.045
        for start in range(0, len(pairs), 200_000):
            chunk = pairs[start:start + 200_000]
            est = (sigs[chunk[:, 0]] == sigs[chunk[:, 1]]).mean(axis=1)
            for i, j in chunk[est >= floor]:
                sim = jaccard(pages[i].shingles, pages[j].shingles)
                for a, b in ((i, j), (j, i)):
                    v = verdicts[pages[a].key]
                    twin = pages[b].key
                    if sim > v.similarity or (sim == v.similarity and v.twin and twin < v.twin):
                        v.similarity, v.twin = round(sim, 4), twin
    for p in pages:
        v = verdicts[p.key]
        if v.similarity > threshold:
            reason = f"{v.similarity:.1%} similar to {v.twin} (limit {threshold:.0%})"
            # hubs are where noindexed pages point their canonical: report them, keep them
            (v.warnings if p.kind in HUB_KINDS else v.reasons).append(reason)
        if p.needs_facts and p.facts < min_facts:
            v.reasons.append(f"{p.facts} local facts (minimum {min_facts})")
        v.indexable = not v.reasons
    return verdicts


def save_cache(path: Path, pages: list[GuardPage], hashes: dict[str, str]) -> None:
    """Each page's analysis keyed by its content hash, so an incremental build re-analyses only
    the pages it rendered."""
    from .write import atomic_write
    if not pages:
        return
    lengths = np.array([len(p.shingles) for p in pages], dtype=np.int64)
    buffer = io.BytesIO()
    np.savez(buffer, keys=np.array([p.key for p in pages]),
             kinds=np.array([p.kind for p in pages]),
             hashes=np.array([hashes[p.key] for p in pages]),
             facts=np.array([p.facts for p in pages], dtype=np.int64),
             needs=np.array([p.needs_facts for p in pages]),
             signatures=np.stack([p.signature for p in pages]),
             lengths=lengths, shingles=np.concatenate([p.shingles for p in pages]))
    atomic_write(path, buffer.getvalue())


def load_cache(path: Path) -> dict[str, tuple[str, GuardPage]]:
    try:
        data = np.load(path, allow_pickle=False)
        offsets = np.concatenate([[0], np.cumsum(data["lengths"])])
        shingles = data["shingles"]
        out = {}
        for i, key in enumerate(data["keys"].tolist()):
            out[key] = (str(data["hashes"][i]), GuardPage(
                key=key, kind=str(data["kinds"][i]), shingles=shingles[offsets[i]:offsets[i + 1]],
                signature=data["signatures"][i], facts=int(data["facts"][i]),
                needs_facts=bool(data["needs"][i])))
        return out
    except (OSError, ValueError, KeyError):
        return {}  # missing or unreadable: every page is analysed afresh
