"""Consultations: threads of immutable messages with response deadlines."""
