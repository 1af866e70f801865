"""Webhook subscriptions, signing, fan-out and the delivery worker."""
