"""``jipiao rehearse``: a whole election of the seed's shape through the real HTTP API, against a
temporary SQLite database; organizers rehearse with it, and it is the end-to-end smoke test."""
