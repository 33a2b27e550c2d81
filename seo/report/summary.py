"""What the week's facts add up to: the next actions, most urgent first, and the summary lines.

Derived only from the gathered facts (`seo.report.data`), so the same facts always read the same.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .data import Facts


def _pos(p: float | None) -> str:
    return "not found" if p is None else f"{p:g}"


def next_actions(f: Facts) -> list[str]:
    """What to do, most urgent first, derived only from the facts above."""
    acts: list[str] = []
    for j in f.jobs:
        if not j.ok:
            acts.append(f"Fix the `{j.job}` job: {j.problem}" + (f" ({j.error})" if j.error else "") + ".")
    acts += profile_actions(f)
    errors = [i for i in f.audit.new if i.severity == "error"]
    if errors:
        acts.append(f"Fix {len(errors)} new site error{'s' * (len(errors) != 1)} from the audit, "
                    f"starting with {errors[0].type.replace('_', ' ')} on {errors[0].page}.")
    for post in f.listing.posts_rejected[:2]:
        acts.append(f"Google rejected the Business Profile post for {post}: reword the page summary "
                    f"and run `seo listing posts`.")
    if f.listing.failed:
        acts.append(f"{len(f.listing.failed)} Business Profile change(s) failed: run `seo listing plan`.")
    if f.lifecycle and f.lifecycle.attention:
        first = f.lifecycle.attention[0]
        acts.append(f"{f.lifecycle.needing} page(s) need attention (see Page lifecycle), first "
                    f"{first.path}: {first.what}.")
    if f.listing.drift:
        acts.append(f"Review {len(f.listing.drift)} Business Profile field(s) that differ from ours "
                    f"(`seo listing drift`), e.g. {f.listing.drift[0]}.")
    for m in f.rankings.down[:2]:
        cause = f"; it follows: {m.events[0]}" if m.events else ""
        acts.append(f"Look at \"{m.keyword}\" ({m.town}): fell from {_pos(m.previous)} to "
                    f"{_pos(m.current)}{cause}.")
    from ..grid.report import grid_actions  # the map-pack section's own
    acts += grid_actions(f.grid)
    if f.rankings.not_measured and f.rankings.series and \
            f.rankings.not_measured * 5 >= f.rankings.series:
        reason = f.rankings.reasons[0][0] if f.rankings.reasons else "unknown"
        acts.append(f"{f.rankings.not_measured} of {f.rankings.series} rankings were not measured "
                    f"(mostly: {reason}): check the rank source and its budget.")
    sc = f.search_console
    if sc.prev_clicks >= 20 and sc.clicks < sc.prev_clicks * 0.8:
        acts.append(f"Search clicks fell {pct(sc.clicks, sc.prev_clicks)} on the week before: "
                    f"compare the top queries with last week's.")
    if not f.rankings.configured:
        acts.append(f"Rankings are not configured: {f.rankings.setup}.")
    if not f.audit.ran_ever:
        acts.append("Run a first site audit: `seo audit`.")
    if not f.listing.configured:
        acts.append("Connect the Google Business Profile: set integrations.gbp in config/site.yaml "
                    "(README, Google Business Profile).")
    if not acts:
        acts.append("Nothing needs fixing: keep publishing and updating pages.")
    return acts[:7]


def profile_actions(f: Facts) -> list[str]:
    """Reviews waiting for an answer (low ratings first) and a fall in calls from Google."""
    acts = []
    rv = f.reviews
    if rv.unanswered_low:
        worst = rv.unanswered[0]
        acts.append(f"Answer {_n(rv.unanswered_low, 'review')} rated 1 or 2 stars (the first: "
                    f"{worst.when}, from {worst.reviewer}): `seo reviews draft`, approve the "
                    "reply in the drafts file, then `seo reviews reply`.")
    elif rv.unanswered_count:
        acts.append(f"{_n(rv.unanswered_count, 'review')} still need{'s' * (rv.unanswered_count == 1)}"
                    " an answer: `seo reviews draft`, approve, then `seo reviews reply`.")
    calls = f.insights.metric("CALL_CLICKS")
    if calls and calls.now.complete and calls.before.complete and calls.before.value >= 10 \
            and calls.now.value < calls.before.value * 0.8:
        acts.append(f"Calls from Google fell {pct(calls.now.value, calls.before.value)} on the "
                    "week before: check the profile's phone and hours (`seo listing drift`).")
    return acts


def pct(now: int, before: int) -> str:
    if before == 0:
        return "n/a"
    return f"{(now - before) * 100 / before:+.0f}%"


def _n(count: int, one: str, many: str | None = None) -> str:
    return f"{count:,} {one if count == 1 else (many or one + 's')}"


def summarise(f: Facts) -> list[str]:
    """Three to five plain sentences: rankings, search traffic, work done, problems."""
    r, sc, p, lst, a = f.rankings, f.search_console, f.pages, f.listing, f.audit
    out: list[str] = []
    if not r.configured and not r.series:
        out.append("Rankings are not configured yet, so there are no positions to report.")
    elif not r.series:
        out.append("No rankings were measured this week.")
    else:
        text = (f"Of {_n(r.series, 'tracked ranking')}, {len(r.up)} moved up and {len(r.down)} moved down "
                f"by more than their usual day-to-day wobble")
        if r.new_top3 or r.new_top10:
            text += f"; {len(r.new_top3)} entered the top 3 and {len(r.new_top10)} the top 10"
        out.append(text + ".")
    if sc.has_data:
        out.append(f"Google search brought {_n(sc.clicks, 'click')} ({pct(sc.clicks, sc.prev_clicks)} "
                   f"on the week before) from {_n(sc.impressions, 'impression')}.")
    elif sc.configured:
        out.append("Search Console has no data for this week yet.")
    else:
        out.append("Search Console is not connected, so clicks and impressions are unknown.")
    profile = profile_sentence(f)
    if profile:
        out.append(profile)
    work = [f"{_n(len(p.created), 'new page')} built" if p.created else "",
            f"{_n(len(p.changed), 'page')} rebuilt with changes" if p.changed else "",
            f"{_n(len(lst.changes), 'Business Profile update')}" if lst.changes else "",
            f"{_n(len(lst.posts_live), 'post')} live on Google" if lst.posts_live else ""]
    work = [w for w in work if w]
    out.append(("This week: " + ", ".join(work) + ".") if work else "No pages or listing changes this week.")
    problems = []
    if a.new:
        problems.append(f"the site audit found {_n(len(a.new), 'new problem')}" +
                        (f" and {len(a.fixed)} fixed" if a.fixed else ""))
    elif a.fixed:
        problems.append(f"{_n(len(a.fixed), 'audit problem')} fixed and none new")
    bad = [j.job for j in f.jobs if not j.ok]
    if bad:
        problems.append(f"{_n(len(bad), 'scheduled job')} need attention ({', '.join(bad[:3])})")
    if lst.posts_rejected:
        problems.append(f"{_n(len(lst.posts_rejected), 'post')} rejected by Google")
    if problems:
        s = "; ".join(problems)
        out.append(s[0].upper() + s[1:] + ".")
    elif f.jobs:
        out.append("Every scheduled job ran without errors.")
    out.append(f"First thing to do: {f.actions[0][0].lower()}{f.actions[0][1:]}" if f.actions
               else "Nothing needs doing.")
    return out[:6]


def profile_sentence(f: Facts) -> str:
    """How many people called and asked for directions from Google; the week's reviews."""
    ins, rv = f.insights, f.reviews
    bits = []
    calls, dirs = ins.metric("CALL_CLICKS"), ins.metric("BUSINESS_DIRECTION_REQUESTS")
    if calls and dirs and (calls.now.known or dirs.now.known):
        def people(t: Any) -> str:
            return f"{'at least ' if not t.complete else ''}{t.value:,}"
        text = f"{people(calls.now)} {'person' if calls.now.value == 1 else 'people'} called"
        if calls.change not in ("n/a", "new"):
            text += f" ({calls.change} on the week before)"
        text += f" and {people(dirs.now)} asked for directions"
        unknown = max(calls.now.unknown, dirs.now.unknown)
        if unknown:
            text += f" ({unknown} day{'s' * (unknown != 1)} not reported by Google yet)"
        bits.append(text)
    if rv.has_data:
        n = len(rv.new)
        text = f"{_n(n, 'new review')} came in" if n else "no new reviews came in"
        if rv.unanswered_count:
            text += f", {_n(rv.unanswered_count, 'review')} still need{'s' * (rv.unanswered_count == 1)}" \
                    " an answer"
        bits.append(text)
    if not bits:
        return ""
    s = "From the Google Business Profile: " + "; ".join(bits) + "."
    return s
