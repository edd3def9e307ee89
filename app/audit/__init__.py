"""The election record: export, signature, offline verification (``jipiao audit``)."""
