"""The hub: the only public front door (DESIGN.md "Processes"), in wings.

    core/       the conversation: its state machine and store, the inbound turn, the
                outbox, handoffs, Rasa, live events, limits, the hub's own words
    channels/   where customers write from: the widget, REST, Messenger
    console/    the agents' console: sign-in, the API, transfers, search, reports
    aftercare/  after the chat: email follow-up, call-backs, resume links
    web/        what every route shares: JSON in and out, signing, middlewares, app keys

Arrows run downward only: settings and contract/ at the bottom, then core, web, the
three outer wings (which never import each other's handlers), and app.py on top.
"""
