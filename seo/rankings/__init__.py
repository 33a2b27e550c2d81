"""Rank tracking, in pipeline order.

keywords.py        tracked keywords from config (patterns x towns x conditions, plus explicit ones)
search_console.py  Search Console source: daily query x page rows -> observations
serp/              live SERP providers (DataForSEO, SerpApi) behind one interface
serp_crawl.py      the Scrapy child process that fetches live positions into JSONL
observations.py    the store's tables: observations ("not measured" is a value, never a rank), budget
movements.py       week-on-week moves with a learned noise band, and the events next to them
api.py             what the CLI, the scheduled jobs and the weekly report call
cli.py             `seo rankings ...` and `seo auth google`
"""

from .api import check_rankings, export_csv, movements, show_rankings

__all__ = ["check_rankings", "export_csv", "movements", "show_rankings"]
