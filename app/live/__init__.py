"""Live tallies: the SSE stream for the presidium's dashboard and the hall projector (C3)."""
