"""Decision notices: drafted, issued under four-eyes, signed, acknowledged."""
