"""Setting up a congress: congress, roster, check-in, elections, candidates, officials."""
