"""A bot that answers questions about addiction and its treatment from a site's articles, citing them."""

__version__ = "0.1.0"
