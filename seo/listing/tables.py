"""The listing stage's tables: every change pushed (with before/after snapshots), drift seen, posts made."""

from __future__ import annotations

import sqlalchemy as sa

from ..store import metadata

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
