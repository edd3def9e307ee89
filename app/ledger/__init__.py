"""The hash-chained event log: ``chain`` (pure encoding and hashing) and ``store`` (database)."""
