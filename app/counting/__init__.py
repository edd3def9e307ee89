"""Counting on tablets: batches, blind double entry, reconciliation and adjudication."""
