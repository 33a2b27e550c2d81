"""Business Profile insights: calls, direction requests, website clicks, bookings and profile views
per location and day, and the monthly search keywords (Performance API v1)."""

from .api import CheckResult, check_insights, export_insights, show_insights

__all__ = ["CheckResult", "check_insights", "export_insights", "show_insights"]
