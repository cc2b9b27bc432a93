"""Helpers shared by several test packages (servers the tests start for real)."""
