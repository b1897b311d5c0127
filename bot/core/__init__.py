"""The conversation itself, whatever the channel: its states (conversations.py owns
every change), the inbound turn (turn.py), queueing for a person (handoffs.py), what
goes out outside a customer's request (outbox.py), and the parts they use."""
