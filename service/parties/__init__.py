"""Organizations, users, API clients and the dialogues that bind them."""
