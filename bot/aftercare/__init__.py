"""After the chat: email follow-up of unread agent replies, call-back tasks, and the
links that bring a customer back to their conversation."""
