"""golf-check: compliance auditing for Parameter Golf submissions."""

__version__ = "0.1.0"
