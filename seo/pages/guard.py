"""Doorway guard: near-duplicate pages and pages without enough local facts are not indexable.

Similarity is the Jaccard resemblance of the sets of word k-shingles of each page's <main>, after
the town's own words (name, county, neighborhoods, roads, landmarks, ZIP codes) and every number
are masked, so swapping "Aurora" for "Parker" cannot hide a duplicate.

All pairs are compared through MinHash signatures (one-permutation hashing, 128 bins) with LSH
banding (32 bands x 4 rows), and each
candidate pair above the reporting floor is then measured exactly. Cost grows with the number of
pages, not with its square, so an agency site of 10,000 pages is checked in seconds.
"""

from __future__ import annotations

import html
import os
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..site import Town

MASK = "\x00"
HUB_KINDS = ("home", "areas", "condition")
NUM_PERM, BANDS = 128, 32
FLOOR_MARGIN = 0.1  # pairs estimated this far below the threshold or closer are measured exactly
ROWS = NUM_PERM // BANDS
_TOKEN = re.compile(r"[a-z0-9][a-z0-9'’]*")
_TAG = re.compile(r"<[^>]+>")
_DIGIT = re.compile(r"[0-9]")
_BAND_MIX = np.array([0x9E3779B97F4A7C15, 0xC2B2AE3D27D4EB4F, 0x165667B19E3779F9,
                      0x27D4EB2F165667C5], dtype=np.uint64)  # mixes a band's 4 values into one key


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
    for phrase in [c.name, c.county, c.state, *c.neighborhoods, *c.roads, *c.landmarks]:
        words.update(_TOKEN.findall(phrase.lower()))
    # "the", "of", "and" inside a landmark's name are not the town's own words
    return frozenset(words - {"the", "of", "and", "a", "city", "county", "park", "road", "street"})


def tokens(text: str, masked: frozenset[str]) -> list[str]:
    """Lower-case word tokens; the town's own words and anything with a digit become MASK.
    (The readable form of what `token_ids` computes in bulk.)"""
    return [MASK if tok in masked or (not tok.isalpha() and _DIGIT.search(tok)) else tok
            for tok in _TOKEN.findall(text.lower())]


_P = np.uint64(0x100000001B3)
_P_INV = np.uint64(pow(0x100000001B3, -1, 2**64))
_MASK_ID = np.uint64(0x5BD1E9955BD1E995)


_POWER_TABLES: dict[int, np.ndarray] = {}


def _powers(base: np.uint64, n: int) -> np.ndarray:
    """base**0 .. base**(n-1) mod 2**64, from a table grown as needed."""
    table = _POWER_TABLES.get(int(base))
    if table is None or len(table) < n:
        size = max(n, 2 * len(table) if table is not None else 65536)
        table = np.full(size, base, dtype=np.uint64)
        table[0] = 1
        with np.errstate(over="ignore"):
            table = np.cumprod(table, dtype=np.uint64)
        _POWER_TABLES[int(base)] = table
    return table[:n]


def _hash_tokens(toks: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Stable 64-bit polynomial hash of each token, and whether it holds a digit, in bulk."""
    data = np.frombuffer("\x01".join(toks).encode(), dtype=np.uint8)
    n = len(data)
    sep = np.flatnonzero(data == 1)
    starts, ends = np.r_[0, sep + 1], np.r_[sep, n]
    with np.errstate(over="ignore"):
        weights = data.astype(np.uint64) * _powers(_P, n)[::-1]  # b_j * P^(n-1-j)
        prefix = np.r_[np.uint64(0), np.cumsum(weights, dtype=np.uint64)]
        raw = (prefix[ends] - prefix[starts]) * _powers(_P_INV, n + 1)[n - ends]
        raw ^= raw >> np.uint64(29)
        raw *= np.uint64(0xBF58476D1CE4E5B9)
        raw ^= raw >> np.uint64(32)
    digits = np.add.reduceat(((data >= 48) & (data <= 57)).astype(np.int32), starts) > 0
    return raw, digits


class Vocabulary:
    """Per-build caches of each town's masked words (as token hashes) and facts."""

    def __init__(self) -> None:
        self.masked: dict[str, np.ndarray] = {}
        self.facts: dict[str, list[str]] = {}

    def masked_ids(self, town: Town | None) -> np.ndarray:
        if town is None:
            return np.zeros(0, dtype=np.uint64)
        if town.slug not in self.masked:
            words = sorted(town_words(town))
            self.masked[town.slug] = (_hash_tokens(words)[0] if words
                                      else np.zeros(0, dtype=np.uint64))
        return self.masked[town.slug]

    def town_facts(self, town: Town | None) -> list[str]:
        if town is None:
            return []
        if town.slug not in self.facts:
            self.facts[town.slug] = [fact.lower() for fact in town.facts()]
        return self.facts[town.slug]

    def ids(self, text: str, town: Town | None) -> np.ndarray:
        """Token hashes of `text`, the town's words and every number replaced by one MASK id."""
        toks = _TOKEN.findall(text.lower())
        if not toks:
            return np.zeros(0, dtype=np.uint64)
        ids, digits = _hash_tokens(toks)
        ids[digits | np.isin(ids, self.masked_ids(town))] = _MASK_ID
        return ids


def shingles(ids: np.ndarray, k: int) -> np.ndarray:
    """Unique sorted 32-bit hashes of every k-token window (of the tokens, if fewer than k)."""
    return _batch_shingles(ids, np.array([len(ids)]), k)[1]


def _batch_shingles(ids: np.ndarray, counts: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Shingles of several pages' concatenated token ids: (page index, shingle) pairs, sorted and
    unique per page. Windows that would straddle two pages are dropped."""
    page_of = np.repeat(np.arange(len(counts)), counts)
    parts_pg, parts_sh = [], []
    windows = len(ids) - k + 1
    if windows > 0:
        with np.errstate(over="ignore"):
            acc = np.zeros(windows, dtype=np.uint64)
            for j in range(k):
                acc = acc * np.uint64(0x100000001B3) + ids[j: windows + j]
        inside = page_of[:windows] == page_of[k - 1:]
        parts_pg.append(page_of[:windows][inside])
        parts_sh.append(acc[inside].astype(np.uint32))  # 32-bit: collisions negligible
    short = np.flatnonzero((counts > 0) & (counts < k))
    for i in short:  # a page shorter than one window: its tokens stand for its shingles
        parts_pg.append(page_of[page_of == i])
        parts_sh.append(ids[page_of == i].astype(np.uint32))
    if not parts_pg:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.uint32)
    keyed = np.unique((np.concatenate(parts_pg).astype(np.uint64) << np.uint64(32))
                      | np.concatenate(parts_sh).astype(np.uint64))
    return (keyed >> np.uint64(32)).astype(np.int64), (keyed & np.uint64(0xFFFFFFFF)).astype(np.uint32)


def minhash(sh: np.ndarray) -> np.ndarray:
    """A 128-value MinHash signature by one-permutation hashing: each shingle is hashed once and
    falls into one of 128 bins, and each bin keeps its minimum. O(shingles), not O(shingles x 128),
    with the same estimator (the share of equal bins estimates the Jaccard resemblance)."""
    return _batch_minhash(np.zeros(len(sh), dtype=np.int64), sh, 1)[0]


def _batch_minhash(page: np.ndarray, sh: np.ndarray, pages: int) -> np.ndarray:
    sig = np.full(pages * NUM_PERM, np.iinfo(np.uint32).max, dtype=np.uint32)
    with np.errstate(over="ignore"):
        x = sh.astype(np.uint32) * np.uint32(0x9E3779B1)
        x ^= x >> np.uint32(15)
        x *= np.uint32(0x85EBCA77)
        x ^= x >> np.uint32(13)
    np.minimum.at(sig, page * NUM_PERM + (x & np.uint32(NUM_PERM - 1)), x >> np.uint32(7))
    return sig.reshape(pages, NUM_PERM)


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
    return analyse_many([(key, kind, page_html, town)], k, vocab)[0]


def analyse_many(items: list[tuple[str, str, str, Town | None]], k: int,
                 vocab: Vocabulary) -> list[GuardPage]:
    """Shingles, signatures and local facts of a batch of pages (key, kind, html, town): one
    numpy pass for the whole batch, because per-page numpy calls cost more than their work."""
    texts = [main_text(page_html).lower() for _, _, page_html, _ in items]
    toks = [_TOKEN.findall(text) for text in texts]
    counts = np.array([len(t) for t in toks], dtype=np.int64)
    flat = [tok for page_toks in toks for tok in page_toks]
    if flat:
        ids, hide = _hash_tokens(flat)
    else:
        ids, hide = np.zeros(0, dtype=np.uint64), np.zeros(0, dtype=bool)
    bounds = np.r_[0, np.cumsum(counts)]
    for i, (_, _, _, town) in enumerate(items):
        masked = vocab.masked_ids(town)
        if len(masked):
            hide[bounds[i]:bounds[i + 1]] |= np.isin(ids[bounds[i]:bounds[i + 1]], masked)
    ids[hide] = _MASK_ID
    page, sh = _batch_shingles(ids, counts, k)
    sigs = _batch_minhash(page, sh, len(items))
    splits = np.searchsorted(page, np.arange(len(items) + 1))
    out = []
    for i, (key, kind, _, town) in enumerate(items):
        facts = sum(1 for fact in vocab.town_facts(town) if fact in texts[i])
        out.append(GuardPage(key=key, kind=kind, shingles=sh[splits[i]:splits[i + 1]],
                             signature=sigs[i], facts=facts,
                             needs_facts=kind in ("town", "town_condition")))
    return out


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
            block = signatures[:, band * ROWS:(band + 1) * ROWS].astype(np.uint64)
            keys = (block * _BAND_MIX[None, :ROWS]).sum(axis=1, dtype=np.uint64)
            order = np.argsort(keys, kind="stable")
            found.append(_pairs_within_runs(order, keys[order], n))
    codes = np.unique(np.concatenate(found)) if found else np.zeros(0, dtype=np.int64)
    return np.stack([codes // n, codes % n], axis=1)


def _pairs_within_runs(order: np.ndarray, sorted_keys: np.ndarray, n: int) -> np.ndarray:
    """Every pair of members of each run of equal keys, encoded i * n + j with i < j (vectorised:
    a site has thousands of small runs, and a Python loop over them dominated the guard)."""
    m = len(order)
    starts = np.flatnonzero(np.r_[True, sorted_keys[1:] != sorted_keys[:-1]])
    run_end = np.repeat(np.r_[starts[1:], m], np.diff(np.r_[starts, m]))
    later = run_end - np.arange(m) - 1  # members after each position in its run
    total = int(later.sum())
    if total == 0:
        return np.zeros(0, dtype=np.int64)
    first = np.repeat(np.arange(m), later)
    offset = np.arange(total) - np.repeat(np.cumsum(later) - later, later)
    a, b = order[first], order[first + 1 + offset]
    return np.minimum(a, b) * n + np.maximum(a, b)


def judge(pages: list[GuardPage], threshold: float, min_facts: int) -> dict[str, Verdict]:
    """A verdict per page: similarity to its nearest twin, local facts, indexable or not."""
    verdicts = {p.key: Verdict(facts=p.facts) for p in pages}
    if len(pages) > 1:
        sigs = np.stack([p.signature for p in pages])
        pairs = candidate_pairs(sigs)
        floor = threshold - FLOOR_MARGIN  # MinHash estimate's error at 128 permutations is ~0.045
        for start in range(0, len(pairs), 16_384):  # 2 x 16k x 128 x 8 bytes = 32 MB at most
            chunk = pairs[start:start + 16_384]
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
    the pages it rendered. Written to a temporary file beside the cache and renamed over it
    (atomic, and without holding a second copy of the archive in memory)."""
    if not pages:
        return
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".npz")
    try:
        with os.fdopen(fd, "wb") as fh:
            np.savez(fh, keys=np.array([p.key for p in pages]),
                     kinds=np.array([p.kind for p in pages]),
                     hashes=np.array([hashes[p.key] for p in pages]),
                     facts=np.array([p.facts for p in pages], dtype=np.int64),
                     needs=np.array([p.needs_facts for p in pages]),
                     signatures=np.stack([p.signature for p in pages]),
                     lengths=np.array([len(p.shingles) for p in pages], dtype=np.int64),
                     shingles=np.concatenate([p.shingles for p in pages]))
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def load_cache(path: Path) -> dict[str, tuple[str, GuardPage]]:
    try:
        with np.load(path, allow_pickle=False) as data:
            arrays = {name: data[name] for name in data.files}  # NpzFile re-reads on each access
    except (OSError, ValueError, KeyError):
        return {}  # missing or unreadable: every page is analysed afresh
    offsets = np.concatenate([[0], np.cumsum(arrays["lengths"])])
    shingles, signatures = arrays["shingles"], arrays["signatures"]
    out = {}
    for i, (key, kind, digest, facts, needs) in enumerate(zip(
            arrays["keys"].tolist(), arrays["kinds"].tolist(), arrays["hashes"].tolist(),
            arrays["facts"].tolist(), arrays["needs"].tolist(), strict=True)):
        out[key] = (digest, GuardPage(key=key, kind=kind, shingles=shingles[offsets[i]:offsets[i + 1]],
                                      signature=signatures[i], facts=facts, needs_facts=needs))
    return out
