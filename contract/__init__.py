"""What the hub and the assistant agree on, imported by both sides (DESIGN.md)."""
