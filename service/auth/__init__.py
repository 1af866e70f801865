"""Identity of callers: keys, tokens, external issuers, principals and the request dependencies."""
