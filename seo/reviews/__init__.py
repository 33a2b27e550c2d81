"""Business Profile reviews: every review of every location into the store (new, changed,
deleted), rating and velocity per month, and replies that pass a privacy lint before they are
sent, each at most once."""

from .api import draft_replies, fetch_reviews, review_stats, send_replies

__all__ = ["draft_replies", "fetch_reviews", "review_stats", "send_replies"]
