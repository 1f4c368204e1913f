"""What the app knows that is not drawing: indexes, filters, trackers, histories (no Textual)."""
