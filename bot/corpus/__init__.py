"""Articles: read from files and the site, checked, one plain text each with its structure."""
