"""Keywords from config, and movements with a learned noise band, events beside the moves."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from rankings_support import configure

from seo.api import Project
from seo.errors import UserError
from seo.rankings import movements
from seo.rankings import observations as observations_mod
from seo.rankings.keywords import build_keywords
from seo.rankings.movements import week_bounds
from seo.rankings.observations import Observation, load, measured_keys, save_observations
from seo.store import open_store, page_events

WEEK = date(2026, 11, 16)  # a Monday


def test_keywords_generated_mapped_and_deduplicated(mini):
    configure(mini, keywords={
        "patterns": ["{condition} acupuncture {town}", "{condition}  Acupuncture {town}"],
        "town_patterns": ["acupuncture {town} {state}"],
        "extra": [{"keyword": "Dry Needling", "towns": ["alpha"], "condition": "knee-pain"},
                  {"keyword": "acupuncture near me"}],
        "competitors": ["rivals-acupuncture.test"]})
    kws = build_keywords(Project.open(mini).site)
    texts = [(k.text, k.town, k.target) for k in kws]
    assert ("knee pain acupuncture alpha", "alpha", "/alpha/knee-pain/") in texts
    assert ("acupuncture beta springs co", "beta-springs", "/beta-springs/") in texts
    assert ("dry needling", "alpha", "/alpha/knee-pain/") in texts
    assert ("acupuncture near me", "beta-springs", "/beta-springs/") in texts
    assert len(texts) == len(set(texts)) == 2 * 2 + 2 + 1 + 2  # the doubled pattern is skipped


def test_unknown_placeholder_is_a_one_line_error(mini):
    configure(mini, keywords={"patterns": ["{condtion} acupuncture {town}"]})
    with pytest.raises(UserError, match=r"keywords.patterns\[0\]: unknown placeholder \{condtion\}"):
        build_keywords(Project.open(mini).site)


def put(project, keyword, town, values, start, kind="organic", source="dataforseo"):
    """values: one per day from `start`; a float, "out" (not found) or "fail" (not measured)."""
    obs = []
    for i, v in enumerate(values):
        day = start + timedelta(days=i)
        if v is None:
            continue
        if v == "fail":
            obs.append(Observation(source, kind, keyword, town, "desktop", day, False, reason="timed out"))
        elif v == "out":
            obs.append(Observation(source, kind, keyword, town, "desktop", day, True, None))
        else:
            obs.append(Observation(source, kind, keyword, town, "desktop", day, True, float(v)))
    save_observations(project.store, obs)


@pytest.mark.stores
def test_movements_noise_band_blips_and_events(mini):
    project = Project.open(mini)
    start = WEEK - timedelta(weeks=8)
    wobble = [5, 6, 5, 7, 6, 5, 6]  # normal day-to-day wobble
    # steady with wobble all along: never a move
    put(project, "knee pain acupuncture alpha", "alpha", wobble * 9, start)
    # a real move: 12-ish for 8 weeks, then 3 this week
    put(project, "wrist pain acupuncture alpha", "alpha", [12, 13, 12, 12, 13, 12, 12] * 8 + [3] * 7, start)
    # a blip last week that recovered this week: not a move
    put(project, "acupuncture alpha co", "alpha", [8, 8, 9, 8, 8, 9, 8] * 7 + [20] * 7 + [8] * 7, start)
    # dropped out of the results this week
    put(project, "acupuncturist alpha", "alpha", [9, 9, 10, 9, 9, 10, 9] * 8 + ["out"] * 7, start)
    # failed this week: "not measured", never a drop
    put(project, "knee pain acupuncture beta springs", "beta-springs", [4] * 56 + ["fail"] * 7, start)
    with project.store.begin() as conn:
        conn.execute(page_events.insert().values(path="/alpha/wrist-pain/", day=WEEK - timedelta(days=3),
                                                 event="changed", detail="notes rewritten"))
        conn.execute(page_events.insert().values(path="/beta-springs/", day=WEEK, event="changed",
                                                 detail=""))
    report = movements(project, "2026-W47")
    assert (report.week_start, report.week_end) == (WEEK, WEEK + timedelta(days=6))
    by = {m.keyword: m for m in report.rows}
    steady = by["knee pain acupuncture alpha"]
    assert steady.status == "steady" and steady.band >= 1 and not steady.events
    up = by["wrist pain acupuncture alpha"]
    assert up.status == "up" and up.change_week == 9 and up.new_top3 and up.new_top10
    assert [e.line() for e in up.events] == ["2026-11-13 page changed: /alpha/wrist-pain/ (notes rewritten)"]
    assert by["acupuncture alpha co"].status == "steady"  # back from a one-week blip
    assert by["acupuncturist alpha"].status == "dropped out"
    failed = by["knee pain acupuncture beta springs"]
    assert failed.status == "not measured" and failed.reason == "timed out" and failed.current is None
    assert [m.keyword for m in report.winners] == ["wrist pain acupuncture alpha"]
    assert [m.keyword for m in report.losers] == ["acupuncturist alpha"]
    assert [m.keyword for m in report.not_measured] == ["knee pain acupuncture beta springs"]


@pytest.mark.stores
def test_listing_changes_are_events(mini):
    project = Project.open(mini)
    from seo.store import metadata
    changes = metadata.tables["listing_changes"]
    put(project, "wrist pain acupuncture alpha", "alpha", [12] * 56 + [3] * 7, WEEK - timedelta(weeks=8),
        kind="maps")
    with project.store.begin() as conn:
        conn.execute(changes.insert().values(run_id=1, action="apply", location="main",
                                             gbp_name="locations/1",
                                             fields="hours, description", update_mask="regularHours",
                                             before="{}", after="{}", status="verified",
                                             at=datetime(2026, 11, 17, 10, 0)))
    (m,) = movements(project, WEEK).rows
    assert m.status == "up"
    assert [e.line() for e in m.events] == ["2026-11-17 listing apply (main): hours, description"]


def test_week_arguments():
    assert week_bounds("2026-11-18") == (WEEK, WEEK + timedelta(days=6))
    assert week_bounds(None, today=date(2026, 11, 23)) == (WEEK, WEEK + timedelta(days=6))
    with pytest.raises(UserError):
        week_bounds("last week")


def test_a_failure_cannot_carry_a_position():
    with pytest.raises(ValueError):
        Observation("dataforseo", "organic", "k", "t", "desktop", WEEK, False, 3.0, reason="x")
    with pytest.raises(ValueError):
        Observation("dataforseo", "organic", "k", "t", "desktop", WEEK, True, 0.0)


# -- the bulk store path's guarantees ----------------------------------------------------------

def _obs(keyword, day, position=None, *, failed=False, town="alpha"):
    if failed:
        return Observation("dataforseo", "organic", keyword, town, "desktop", day, False, reason="timed out")
    return Observation("dataforseo", "organic", keyword, town, "desktop", day, True, position)


def _stored(store):
    return {(r.keyword, r.town, r.day): (r.measured, r.position, r.reason) for r in load(store)}


@pytest.mark.stores
def test_bulk_store_never_stores_a_failure_as_a_rank_nor_doubles(store_url, monkeypatch):
    monkeypatch.setattr(observations_mod, "BATCH_ROWS", 3)  # duplicates land in several batches
    store = open_store(store_url)
    day = WEEK
    check = [_obs("a", day, 4.0), _obs("b", day, failed=True), _obs("c", day, None),
             _obs("a", day, failed=True),  # a failure after a measurement of the same day: ignored
             _obs("b", day, 7.0),  # a measurement after a failure: replaces it
             _obs("d", day, 2.0), _obs("d", day, 3.0)]  # two measurements: the later wins
    assert save_observations(store, check) == 7
    want = {("a", "alpha", day): (True, 4.0, ""), ("b", "alpha", day): (True, 7.0, ""),
            ("c", "alpha", day): (True, None, ""), ("d", "alpha", day): (True, 3.0, "")}
    assert _stored(store) == want
    save_observations(store, check)  # the same check run again: nothing doubled, nothing changed
    save_observations(store, [_obs(k, day, failed=True) for k in "abcd"])  # a later failing re-run
    assert _stored(store) == want
    save_observations(store, [_obs("e", day, failed=True), _obs("e", day + timedelta(days=1), 5.0)])
    save_observations(store, [_obs("e", day, 9.0)])  # a failure is replaced by a measurement
    assert _stored(store)[("e", "alpha", day)] == (True, 9.0, "")
    assert len(load(store)) == 6
    row = next(r for r in load(store) if r.keyword == "e" and r.day == day)
    assert isinstance(row.day, date) and isinstance(row.updated_at, datetime)
    assert row.measured is True and row.competitors == "[]" and row.url == "" and row.provisional is False


@pytest.mark.stores
def test_bulk_store_interrupted_check_keeps_nothing_half_and_resumes(store_url, monkeypatch):
    monkeypatch.setattr(observations_mod, "BATCH_ROWS", 2)
    store = open_store(store_url)
    save_observations(store, [_obs("a", WEEK, 1.0), _obs("b", WEEK, failed=True)])  # committed earlier

    def interrupted():
        for i, k in enumerate("cdefg"):
            if i == 3:
                raise KeyboardInterrupt
            yield _obs(k, WEEK, 2.0)

    with pytest.raises(KeyboardInterrupt):
        save_observations(store, interrupted())  # several batches written, then killed
    assert measured_keys(store, "dataforseo", WEEK) == {("organic", "a", "alpha", "desktop")}
    save_observations(store, [_obs(k, WEEK, 2.0) for k in "bcdefg"])  # the resumed check
    assert len(load(store)) == 7
    assert {k for _, k, _, _ in measured_keys(store, "dataforseo", WEEK)} == set("abcdefg")
