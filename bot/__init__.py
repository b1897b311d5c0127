"""The bot hub: the public front door (widget, REST, agent console), routing, handoff."""
