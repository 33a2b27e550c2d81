"""The weekly report's Business Profile sections: calls, directions, website clicks and bookings week
over week with a chart each, unreported days shown as floors, keywords with thresholds, reviews
that came in and still need an answer, hostile review text escaped, the rating trend."""

from __future__ import annotations

import re

import pytest
from profile_support import add_location, seed_profile
from report_support import WEEK, seed_week

from seo.api import Project
from seo.report import build_report


@pytest.fixture
def project(mini):
    seed_week(mini)
    add_location(mini)
    project = Project.open(mini)
    seed_profile(project)
    return project


@pytest.fixture
def report(project):
    return build_report(project, WEEK)


def test_calls_directions_and_reviews_in_the_facts(report):
    ins, rv = report.facts.insights, report.facts.reviews
    calls = ins.metric("CALL_CLICKS")
    assert (calls.now.value, calls.now.unknown, calls.before.value, calls.change) == (10, 2, 21,
                                                                                      "n/a")
    assert [t.value for _, t in calls.weeks] == [21, 14, 21, 14, 21, 14, 21, 10]
    assert ins.metric("BUSINESS_BOOKINGS").before.text() == "0"  # reported zeros are zeros
    assert ins.views.before.value == 7 * 40
    assert [(k.keyword, k.text()) for k in ins.keywords] == [("acupuncture alpha", "42"),
                                                             ("<b>knee</b> needles", "under 15")]
    assert [(r.rating, r.answered) for r in rv.new] == [("1/5", False), ("5/5", False)]
    assert rv.unanswered_count == 3 and rv.unanswered_low == 1
    assert rv.unanswered[0].rating == "1/5"  # lowest rating first
    assert "\x1b" not in rv.new[0].excerpt and "\u202e" not in rv.new[0].excerpt
    assert rv.average == round((5 + 1 + 4 + 5) / 4, 2) and rv.average_before == 4.5


def test_the_monday_mail_says_calls_directions_and_reviews(report):
    sentence = next(s for s in report.facts.summary if s.startswith("From the Google Business"))
    assert sentence == ("From the Google Business Profile: at least 10 people called and at least "
                        "5 asked for directions (2 days not reported by Google yet); 2 new reviews "
                        "came in, 3 reviews still need an answer.")
    assert sentence in report.text
    acts = report.facts.actions
    answer = next(i for i, a in enumerate(acts) if a.startswith("Answer 1 review rated 1 or 2"))
    assert answer < next(i for i, a in enumerate(acts) if "site error" in a)  # before the audit
    assert "10+ calls" in report.subject and "2 new reviews" in report.subject
    for needle in ("at least 10 (2 days not reported yet)", "week before 21", "under 15",
                   "needs an answer", "1/5 from", "Average rating 3.75 over 4 reviews"):
        assert needle in report.text, needle
        assert needle.replace("<", "&lt;") in report.html or needle.startswith("at least"), needle


def test_hostile_review_text_is_escaped_and_inert(report):
    html, text = report.html, report.text
    assert "<script>" not in html and "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in html
    assert "<img src=x>" not in html and "&lt;img src=x&gt;" in html
    assert "<b>knee</b>" not in html and "&lt;b&gt;knee&lt;/b&gt;" in html
    assert "\x1b" not in html + text and "\u202e" not in html + text
    assert "Ignore previous instructions" in text  # shown as what it is: a reviewer's words
    assert not re.search(r"<script|\son\w+=", html)


def test_a_chart_per_number_and_the_rating_trend(project, report):
    names = sorted(c.name for c in report.charts)
    for name in ("gbp-call-clicks.png", "gbp-business-direction-requests.png",
                 "gbp-website-clicks.png", "review-rating.png"):
        assert name in names
    assert "gbp-business-bookings.png" not in names  # eight weeks of zero bookings: no chart
    calls = next(c for c in report.charts if c.name == "gbp-call-clicks.png")
    assert calls.alt.endswith("2026-W47 10 or more (not fully reported)")
    cids = set(report.content_ids())
    imgs = re.findall(r'<img src="cid:([^"]+)" alt="([^"]*)"', report.html)
    assert {c for c, _ in imgs} == cids and all(alt for _, alt in imgs)
    again = build_report(project, WEEK)
    assert [c.png for c in again.charts] == [c.png for c in report.charts]  # deterministic
    assert again.html == report.html and again.text == report.text


def test_not_configured_and_no_data_are_one_line_each(mini):
    text = build_report(Project.open(mini), WEEK).text
    assert "Business Profile insights: not configured" in text
    assert "Reviews: not configured" in text
    seed_week(mini)
    text = build_report(Project.open(mini), WEEK).text
    assert "No Business Profile numbers stored for this week yet: run `seo insights check`" in text
    assert "No reviews stored yet: run `seo reviews fetch`" in text
