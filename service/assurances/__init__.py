"""End-use assurances and their state machine."""
