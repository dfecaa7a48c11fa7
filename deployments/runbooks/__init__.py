"""Runbook import and export: markdown <-> Plan <-> Release."""
