"""The web client for diplomats and officials: server-rendered pages under ``/app``.

Pages call the same service functions as the REST API with the signed-in user as the principal,
so every rule (visibility, roles, four-eyes, state machines) is the service layer's, not a copy.
"""
