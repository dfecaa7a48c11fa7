"""Django's PostgreSQL backend, with pooled connections checked before use (base.py)."""
