"""The bare baseline: a minimal FastAPI app that does the least each scenario needs."""
