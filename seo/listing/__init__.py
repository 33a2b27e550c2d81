"""Google Business Profile: desired state from config -> live -> plan -> apply -> verify -> log;
drift (what Google or the public changed); posts for new pages.

The library API lives in `seo.listing.api` (plan_listing, apply_listing, rollback_listing,
detect_drift, publish_posts); the CLI and the scheduled jobs both call it.
"""
