"""Ballot papers: the frozen round definition and its hash, the QR payload, the installation key.

``definition`` and ``qr`` are pure (standard library and ``app.rules``/``app.ledger.chain`` only);
``keys`` reads and writes the installation secret under the data directory.
"""
