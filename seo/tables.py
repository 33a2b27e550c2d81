"""Every table in the store, in one schema module (one `metadata`), grouped by the stage that writes it.

Kept apart from `store.py` and from the stages so that nothing imports in a circle: the store creates
these tables, and each stage imports the ones it reads and writes from here.
"""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData()

# -- pages and runs: every stage reads them ----------------------------------------------------------

pages = sa.Table(
    "pages", metadata,
    sa.Column("path", sa.String(512), primary_key=True),
    sa.Column("kind", sa.String(32), nullable=False),
    sa.Column("town", sa.String(128)),
    sa.Column("condition", sa.String(128)),
    sa.Column("fingerprint", sa.String(64), nullable=False),
    sa.Column("content_hash", sa.String(64), nullable=False),
    sa.Column("indexable", sa.Boolean, nullable=False),
    sa.Column("similarity", sa.Float, nullable=False, default=0.0),
    sa.Column("twin", sa.String(512)),
    sa.Column("local_facts", sa.Integer, nullable=False, default=0),
    sa.Column("reasons", sa.Text, nullable=False, default=""),
    sa.Column("first_published", sa.Date, nullable=False),
    sa.Column("last_changed", sa.Date, nullable=False),
    sa.Column("removed", sa.Date),
)

page_events = sa.Table(
    "page_events", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("path", sa.String(512), nullable=False, index=True),
    sa.Column("day", sa.Date, nullable=False, index=True),
    sa.Column("event", sa.String(32), nullable=False),  # created, changed, removed, noindexed, indexed
    sa.Column("detail", sa.Text, nullable=False, default=""),
)

runs = sa.Table(
    "runs", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("job", sa.String(64), nullable=False, index=True),
    sa.Column("started_at", sa.DateTime, nullable=False),
    sa.Column("finished_at", sa.DateTime),
    sa.Column("status", sa.String(16), nullable=False),  # running, ok, failed, skipped, interrupted
    sa.Column("counts", sa.Text, nullable=False, default="{}"),
    sa.Column("error", sa.Text, nullable=False, default=""),
    sa.Column("trigger", sa.String(16), nullable=False, default="manual"),
)


# -- audit -------------------------------------------------------------------------------------------

audits = sa.Table(
    "audits", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("run_id", sa.Integer, index=True),
    sa.Column("target", sa.String(512), nullable=False, index=True),  # "built" or the site origin
    sa.Column("started_at", sa.DateTime, nullable=False),
    sa.Column("pages", sa.Integer, nullable=False, default=0),
    sa.Column("counts", sa.Text, nullable=False, default="{}"),  # per severity
    sa.Column("truncated", sa.Boolean, nullable=False, default=False),
)

audit_findings = sa.Table(
    "audit_findings", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("audit_id", sa.Integer, sa.ForeignKey("audits.id"), nullable=False, index=True),
    sa.Column("type", sa.String(64), nullable=False),
    sa.Column("severity", sa.String(16), nullable=False),
    sa.Column("page", sa.String(2048), nullable=False),
    sa.Column("linking", sa.String(2048), nullable=False, default=""),
    sa.Column("detail", sa.Text, nullable=False, default=""),
)


# -- rankings ----------------------------------------------------------------------------------------

observations = sa.Table(
    "rank_observations", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("source", sa.String(32), nullable=False),  # search_console, dataforseo, serpapi
    sa.Column("kind", sa.String(16), nullable=False),  # organic, local_pack, maps
    sa.Column("keyword", sa.String(256), nullable=False),
    sa.Column("town", sa.String(128), nullable=False),  # "" = not town-specific (Search Console)
    sa.Column("device", sa.String(16), nullable=False),  # desktop, mobile, all
    sa.Column("day", sa.Date, nullable=False),
    sa.Column("measured", sa.Boolean, nullable=False),
    sa.Column("position", sa.Float),  # NULL: not found (measured) or not measured
    sa.Column("url", sa.String(1024), nullable=False, default=""),
    sa.Column("reason", sa.Text, nullable=False, default=""),
    sa.Column("clicks", sa.Integer),
    sa.Column("impressions", sa.Integer),
    sa.Column("ctr", sa.Float),
    sa.Column("provisional", sa.Boolean, nullable=False, default=False),
    sa.Column("competitors", sa.Text, nullable=False, default="[]"),  # JSON list, top results
    sa.Column("run_id", sa.Integer),
    sa.Column("updated_at", sa.DateTime, nullable=False),
    # day first: see the module docstring; the index also serves every day-range read
    sa.UniqueConstraint("day", "source", "kind", "keyword", "town", "device", name="uq_rank_obs"),
)

sc_rows = sa.Table(
    "search_console_rows", metadata,
    sa.Column("day", sa.Date, primary_key=True),
    sa.Column("query", sa.String(512), primary_key=True),
    sa.Column("page", sa.String(1024), primary_key=True),
    sa.Column("clicks", sa.Integer, nullable=False),
    sa.Column("impressions", sa.Integer, nullable=False),
    sa.Column("ctr", sa.Float, nullable=False),
    sa.Column("position", sa.Float, nullable=False),
    sa.Column("provisional", sa.Boolean, nullable=False),
)

serp_spend = sa.Table(
    "serp_spend", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("provider", sa.String(32), nullable=False),
    sa.Column("month", sa.String(7), nullable=False, index=True),  # "2026-11"
    sa.Column("requests", sa.Integer, nullable=False),
    sa.Column("batch", sa.String(64), nullable=False, unique=True),  # one row per crawl batch
    sa.Column("recorded_at", sa.DateTime, nullable=False),
)


# -- listing (Google Business Profile) ---------------------------------------------------------------

# One row per location per apply/rollback run: the live snapshot before, the re-read after.
listing_changes = sa.Table(
    "listing_changes", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("run_id", sa.Integer, nullable=False, index=True),  # runs.id
    sa.Column("action", sa.String(16), nullable=False),  # apply, rollback
    sa.Column("location", sa.String(64), nullable=False),  # config location id
    sa.Column("gbp_name", sa.String(128), nullable=False),  # locations/123
    sa.Column("fields", sa.Text, nullable=False),  # comma-separated friendly field names
    sa.Column("update_mask", sa.Text, nullable=False),
    sa.Column("before", sa.Text, nullable=False),  # JSON snapshot (every managed field)
    sa.Column("after", sa.Text, nullable=False, default="{}"),
    sa.Column("status", sa.String(16), nullable=False),  # verified, pending, failed
    sa.Column("at", sa.DateTime, nullable=False),
)

# What `seo listing drift` found: fields Google shows differently, our edits still pending.
listing_drift = sa.Table(
    "listing_drift", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("run_id", sa.Integer, nullable=False, index=True),
    sa.Column("location", sa.String(64), nullable=False),
    sa.Column("field", sa.String(32), nullable=False),
    sa.Column("kind", sa.String(16), nullable=False),  # google (diffMask), pending (pendingMask)
    sa.Column("policy", sa.String(16), nullable=False),
    sa.Column("google_value", sa.Text, nullable=False, default=""),
    sa.Column("our_value", sa.Text, nullable=False, default=""),
    sa.Column("at", sa.DateTime, nullable=False),
)

# One row per post we meant to make. `key` (location + page + content hash, or + week for a
# rotation) is also written into the post's UTM link, so a post sent before a crash is found by
# looking it up at Google before creating it again.
listing_posts = sa.Table(
    "listing_posts", metadata,
    sa.Column("key", sa.String(32), primary_key=True),
    sa.Column("location", sa.String(64), nullable=False, index=True),
    sa.Column("page", sa.String(512), nullable=False, index=True),
    sa.Column("content_hash", sa.String(64), nullable=False),
    sa.Column("reason", sa.String(16), nullable=False),  # new, changed, rotation
    sa.Column("summary", sa.Text, nullable=False),
    sa.Column("page_text", sa.Text, nullable=False, default=""),  # to measure later changes
    sa.Column("post_name", sa.String(256)),  # accounts/../locations/../localPosts/..
    sa.Column("state", sa.String(16), nullable=False),  # SENDING, PROCESSING, LIVE, REJECTED
    sa.Column("search_url", sa.Text, nullable=False, default=""),
    sa.Column("created_on", sa.Date, nullable=False),
    sa.Column("updated_at", sa.DateTime, nullable=False),
)

# Every edit (patch, post create) sent to a Business Profile, by wall-clock time: the limit of 10
# edits a minute per profile holds across processes (`seo.listing.limits.StoreRateLimiter`).
gbp_edits = sa.Table(
    "gbp_edits", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("profile", sa.String(128), nullable=False),  # locations/123
    sa.Column("at", sa.Float, nullable=False),  # seconds since the epoch
    sa.Index("ix_gbp_edits_profile_at", "profile", "at"),
)


# -- publish: targets, verify live, index status -----------------------------------------------------

# One row per page per publish target: what that target holds now, as the tool last wrote it.
published_pages = sa.Table(
    "published_pages", metadata,
    sa.Column("target", sa.String(64), primary_key=True),  # the target's name
    sa.Column("path", sa.String(512), primary_key=True),
    sa.Column("content_hash", sa.String(64), nullable=False),  # pages.content_hash it holds
    sa.Column("remote_id", sa.String(128), nullable=False, default=""),  # WordPress id, release
    sa.Column("state", sa.String(16), nullable=False),  # published, draft, edited, conflict
    sa.Column("detail", sa.Text, nullable=False, default=""),
    sa.Column("published_on", sa.Date),  # when it last received this content
    sa.Column("updated_at", sa.DateTime, nullable=False),
)

# One row per publish (or rollback, or dry run) per target.
publishes = sa.Table(
    "publishes", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("run_id", sa.Integer, index=True),
    sa.Column("target", sa.String(64), nullable=False, index=True),
    sa.Column("kind", sa.String(16), nullable=False),  # folder, ssh, wordpress
    sa.Column("action", sa.String(16), nullable=False),  # publish, rollback
    sa.Column("status", sa.String(16), nullable=False),  # ok, failed, dry-run
    sa.Column("counts", sa.Text, nullable=False, default="{}"),
    sa.Column("release", sa.String(128), nullable=False, default=""),  # ssh release switched to
    sa.Column("error", sa.Text, nullable=False, default=""),
    sa.Column("at", sa.DateTime, nullable=False),
)

# The page's life after the build: published, verified live, and what Google's index says of it.
page_status = sa.Table(
    "page_status", metadata,
    sa.Column("path", sa.String(512), primary_key=True),
    sa.Column("published_hash", sa.String(64)),  # pages.content_hash last published
    sa.Column("published_on", sa.Date),
    sa.Column("live_hash", sa.String(64)),  # pages.content_hash last verified on the live site
    sa.Column("live_on", sa.Date),  # first day this content was verified live
    sa.Column("live_url", sa.String(1024), nullable=False, default=""),
    sa.Column("checked_at", sa.DateTime),  # last live check
    sa.Column("problem", sa.Text, nullable=False, default=""),  # why the last live check failed
    sa.Column("inspected_hash", sa.String(64)),  # content inspected by the URL Inspection API
    sa.Column("inspected_on", sa.Date),
    sa.Column("verdict", sa.String(16), nullable=False, default=""),  # PASS, NEUTRAL, FAIL
    sa.Column("coverage", sa.String(256), nullable=False, default=""),
    sa.Column("google_canonical", sa.String(1024), nullable=False, default=""),
    sa.Column("user_canonical", sa.String(1024), nullable=False, default=""),
    sa.Column("last_crawl", sa.DateTime),
    sa.Column("indexed_on", sa.Date),  # first inspection that found it indexed (verdict PASS)
)

# Every URL Inspection call (the quota is counted from here: per property, per day).
index_inspections = sa.Table(
    "index_inspections", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("property", sa.String(256), nullable=False),
    sa.Column("day", sa.Date, nullable=False),
    sa.Column("path", sa.String(512), nullable=False, index=True),
    sa.Column("url", sa.String(1024), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),  # ok, failed
    sa.Column("verdict", sa.String(16), nullable=False, default=""),
    sa.Column("coverage", sa.String(256), nullable=False, default=""),
    sa.Column("indexing_state", sa.String(64), nullable=False, default=""),
    sa.Column("robots_state", sa.String(64), nullable=False, default=""),
    sa.Column("page_fetch", sa.String(64), nullable=False, default=""),
    sa.Column("google_canonical", sa.String(1024), nullable=False, default=""),
    sa.Column("user_canonical", sa.String(1024), nullable=False, default=""),
    sa.Column("last_crawl", sa.DateTime),
    sa.Column("link", sa.String(1024), nullable=False, default=""),  # inspectionResultLink
    sa.Column("error", sa.Text, nullable=False, default=""),
    sa.Column("at", sa.DateTime, nullable=False),
    sa.Index("ix_index_inspections_quota", "property", "day"),
)


# -- insights (Business Profile Performance API) -------------------------------------------------

# One row per location, day and metric. `value` NULL: Google has not given a number (yet); a
# missing value is never read as zero while the day is inside the settle window. `settled`: the
# day was fetched when it was older than the settle window, so Google's answer is final.
gbp_metrics = sa.Table(
    "gbp_metrics", metadata,
    sa.Column("day", sa.Date, primary_key=True),
    sa.Column("location", sa.String(64), primary_key=True),  # config location id
    sa.Column("metric", sa.String(48), primary_key=True),  # CALL_CLICKS, ...
    sa.Column("value", sa.BigInteger),
    sa.Column("settled", sa.Boolean, nullable=False),
    sa.Column("fetched_at", sa.DateTime, nullable=False),
)

# Monthly search keywords that showed the profile. Google gives either a count (`value`) or, for
# small numbers, only a threshold: "fewer than `threshold`" (value NULL), never a made-up number.
gbp_keywords = sa.Table(
    "gbp_keywords", metadata,
    sa.Column("month", sa.String(7), primary_key=True),  # "2026-10"
    sa.Column("location", sa.String(64), primary_key=True),
    sa.Column("keyword", sa.String(512), primary_key=True),
    sa.Column("value", sa.BigInteger),
    sa.Column("threshold", sa.BigInteger),
)

# Which months of keywords have been fetched, and whether the month was complete and settled.
gbp_keyword_months = sa.Table(
    "gbp_keyword_months", metadata,
    sa.Column("month", sa.String(7), primary_key=True),
    sa.Column("location", sa.String(64), primary_key=True),
    sa.Column("keywords", sa.Integer, nullable=False),
    sa.Column("settled", sa.Boolean, nullable=False),
    sa.Column("fetched_at", sa.DateTime, nullable=False),
)


# -- reviews (legacy v4 reviews) -----------------------------------------------------------------

# Every review of every location, as Google last showed it. Reviewer text is hostile: stored as
# text, escaped wherever it is shown, never used as instructions. `deleted_on`: gone from Google.
gbp_reviews = sa.Table(
    "gbp_reviews", metadata,
    sa.Column("name", sa.String(256), primary_key=True),  # accounts/../locations/../reviews/..
    sa.Column("location", sa.String(64), nullable=False, index=True),
    sa.Column("review_id", sa.String(128), nullable=False),
    sa.Column("reviewer", sa.String(256), nullable=False, default=""),
    sa.Column("anonymous", sa.Boolean, nullable=False, default=False),
    sa.Column("stars", sa.Integer),  # 1-5; NULL when Google says STAR_RATING_UNSPECIFIED
    sa.Column("comment", sa.Text, nullable=False, default=""),
    sa.Column("created", sa.DateTime, nullable=False),
    sa.Column("updated", sa.DateTime, nullable=False),
    sa.Column("reply", sa.Text),  # NULL: unanswered
    sa.Column("reply_updated", sa.DateTime),
    sa.Column("first_seen", sa.DateTime, nullable=False),
    sa.Column("last_seen", sa.DateTime, nullable=False),
    sa.Column("deleted_on", sa.DateTime),
)

# What changed between fetches: new, changed (rating or text), deleted, restored, replied
# (a reply appeared at Google), reply_changed, reply_removed.
gbp_review_events = sa.Table(
    "gbp_review_events", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("review", sa.String(256), nullable=False, index=True),
    sa.Column("location", sa.String(64), nullable=False),
    sa.Column("event", sa.String(16), nullable=False),
    sa.Column("detail", sa.Text, nullable=False, default=""),
    sa.Column("at", sa.DateTime, nullable=False, index=True),
)

# Replies the tool sends: one row per (review, reply text), written before the reply is sent
# (SENDING), so a reply is sent at most once even across crashes and lost answers.
gbp_review_replies = sa.Table(
    "gbp_review_replies", metadata,
    sa.Column("review", sa.String(256), primary_key=True),
    sa.Column("reply_hash", sa.String(64), primary_key=True),
    sa.Column("location", sa.String(64), nullable=False),
    sa.Column("comment", sa.Text, nullable=False),
    sa.Column("source", sa.String(16), nullable=False),  # approved, auto
    sa.Column("state", sa.String(16), nullable=False),  # SENDING, SENT, ADOPTED
    sa.Column("run_id", sa.Integer),
    sa.Column("at", sa.DateTime, nullable=False),
)


# -- automation: who holds a store-wide lock (PostgreSQL advisory locks) ----------------------------

# The lock itself is a PostgreSQL advisory lock held by the holder's connection (released by the
# server when that process ends, however it ends); this row only says who holds it, for the message
# a second process prints.
lock_holders = sa.Table(
    "lock_holders", metadata,
    sa.Column("name", sa.String(128), primary_key=True),  # "job:weekly", "scheduler"
    sa.Column("holder", sa.String(256), nullable=False),  # "pid 123 on host"
    sa.Column("since", sa.DateTime, nullable=False),
)


# -- grid (geo-grid map-pack scans) -------------------------------------------------------------------

# One row per point of a town's grid, keyword and day: our maps rank there (NULL: not found within
# the depth fetched, or not measured, told apart by `measured`), the top-3 businesses and every
# business found with its rank (JSON). `grid` is the geometry's key: points are compared across
# days only within one geometry.
grid_points = sa.Table(
    "grid_points", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("day", sa.Date, nullable=False),
    sa.Column("source", sa.String(32), nullable=False),  # the SERP provider
    sa.Column("town", sa.String(128), nullable=False),
    sa.Column("keyword", sa.String(256), nullable=False),
    sa.Column("grid", sa.String(16), nullable=False),
    sa.Column("row", sa.Integer, nullable=False),  # 0 = the northernmost row
    sa.Column("col", sa.Integer, nullable=False),  # 0 = the westernmost column
    sa.Column("lat", sa.Float, nullable=False),
    sa.Column("lng", sa.Float, nullable=False),
    sa.Column("measured", sa.Boolean, nullable=False),
    sa.Column("rank", sa.Integer),
    sa.Column("reason", sa.Text, nullable=False, default=""),
    sa.Column("top3", sa.Text, nullable=False, default="[]"),  # [{key, name, domain, us}]
    sa.Column("businesses", sa.Text, nullable=False, default="[]"),  # [{key, name, domain, rank, competitor}]
    sa.Column("run_id", sa.Integer),
    sa.Column("updated_at", sa.DateTime, nullable=False),
    sa.UniqueConstraint("day", "source", "town", "keyword", "grid", "row", "col", name="uq_grid_points"),
)

# Scores per grid and day, for the clinic (business "") and every business found in it: ARP
# (average rank where found in the top 20), ATRP (average over the measured points, not found = 21)
# and SoLV (share of the measured points in the top 3).
grid_scores = sa.Table(
    "grid_scores", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("day", sa.Date, nullable=False),
    sa.Column("source", sa.String(32), nullable=False),
    sa.Column("town", sa.String(128), nullable=False),
    sa.Column("keyword", sa.String(256), nullable=False),
    sa.Column("business", sa.String(256), nullable=False),  # "" = the clinic
    sa.Column("name", sa.String(256), nullable=False, default=""),
    sa.Column("competitor", sa.Boolean, nullable=False, default=False),  # in keywords.competitors
    sa.Column("grid", sa.String(16), nullable=False),
    sa.Column("points", sa.Integer, nullable=False),  # in the grid
    sa.Column("measured", sa.Integer, nullable=False),  # points measured
    sa.Column("found", sa.Integer, nullable=False),  # points where found within the top 20
    sa.Column("top3", sa.Integer, nullable=False),
    sa.Column("arp", sa.Float),
    sa.Column("atrp", sa.Float),
    sa.Column("solv", sa.Float),  # 0..1
    sa.Column("run_id", sa.Integer),
    sa.Column("updated_at", sa.DateTime, nullable=False),
    sa.UniqueConstraint("day", "source", "town", "keyword", "business", name="uq_grid_scores"),
)


# -- alerts (the watch job, `seo alerts`) ------------------------------------------------------------

# One row per incident: a condition's finding under a stable key ("listing_drift:main:phone").
# pending (seen, not yet for confirm_runs runs) -> open -> resolved; a key opens again as a new row.
alert_incidents = sa.Table(
    "alert_incidents", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("key", sa.String(256), nullable=False, index=True),
    sa.Column("condition", sa.String(32), nullable=False),
    sa.Column("severity", sa.String(16), nullable=False),  # critical, warning
    sa.Column("status", sa.String(16), nullable=False),  # pending, open, resolved
    sa.Column("title", sa.Text, nullable=False),
    sa.Column("detail", sa.Text, nullable=False, default="[]"),  # JSON list of lines
    sa.Column("data", sa.Text, nullable=False, default="{}"),  # JSON, the condition's own
    sa.Column("seen_runs", sa.Integer, nullable=False, default=1),
    sa.Column("first_seen", sa.DateTime, nullable=False),
    sa.Column("opened_at", sa.DateTime),
    sa.Column("last_seen", sa.DateTime, nullable=False),
    sa.Column("last_notified", sa.DateTime),
    sa.Column("reminders", sa.Integer, nullable=False, default=0),
    sa.Column("acked_at", sa.DateTime),
    sa.Column("acked_by", sa.String(128), nullable=False, default=""),
    sa.Column("resolved_at", sa.DateTime),
    sa.Column("resolution", sa.Text, nullable=False, default=""),
)
# at most one unresolved incident per key, whoever writes (SQLite and PostgreSQL partial index)
sa.Index("uq_alert_incident_live", alert_incidents.c.key, unique=True,
         sqlite_where=alert_incidents.c.status != "resolved",
         postgresql_where=alert_incidents.c.status != "resolved")

# What happened to an incident that people are told about: opened, reminder, resolved; and tests.
alert_events = sa.Table(
    "alert_events", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("incident_id", sa.Integer, index=True),  # NULL for a test message
    sa.Column("kind", sa.String(16), nullable=False),  # opened, reminder, resolved, test
    sa.Column("at", sa.DateTime, nullable=False),
    sa.Column("title", sa.Text, nullable=False),
    sa.Column("detail", sa.Text, nullable=False, default="[]"),  # JSON list of lines
)

# One message per event (or digest) per channel. `key` is the idempotency key, stored before the
# message is sent: the webhook's Idempotency-Key header, the email's Message-ID. State: pending ->
# sending -> sent; pending -> held (quiet hours) -> digested (into a digest row); a send whose
# answer was lost -> unknown, never sent again; failed: refused for good, or given up.
alert_deliveries = sa.Table(
    "alert_deliveries", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("key", sa.String(64), nullable=False, unique=True),
    sa.Column("channel", sa.String(64), nullable=False, index=True),
    sa.Column("kind", sa.String(16), nullable=False),  # event, digest, test
    sa.Column("event_id", sa.Integer, index=True),  # NULL for a digest
    sa.Column("digest_id", sa.Integer, index=True),  # the digest a held message went into
    sa.Column("state", sa.String(16), nullable=False, index=True),
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False, default=0),
    sa.Column("last_attempt", sa.DateTime),
    sa.Column("sent_at", sa.DateTime),
    sa.Column("error", sa.Text, nullable=False, default=""),
)

# What a condition remembers between runs (e.g. the fingerprint of the data it last judged, so a
# run that finds nothing new skips the work). Written with the incidents, in one transaction.
alert_memos = sa.Table(
    "alert_memos", metadata,
    sa.Column("name", sa.String(64), primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
    sa.Column("at", sa.DateTime, nullable=False),
)
