"""``golf-check ci``: gate a submission pull request (PACKAGE rules, then check and verify)."""
