"""What every dialogue-scoped domain shares: the base model, the caller's side, access rules."""
