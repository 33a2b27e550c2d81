"""seo: local-SEO and content automation for multi-location local businesses."""

__version__ = "0.1.0"
