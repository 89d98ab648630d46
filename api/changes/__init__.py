"""What each row of an import did (or, for a check-only run, would do) to the cases."""
