"""The access matrix: every route and page against every kind of caller (SPEC.md section 2)."""
