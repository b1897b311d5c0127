"""Action server for the service-recovery assistant (rasa_sdk loads every module here)."""
