"""`make shell`: chat with the assistant in the terminal (Rasa's own shell, the trained
model), using the Redis and the action server of a `make run` started with the same
environment (REDIS_URL or REDIS_PORT and REDIS_DIR, ACTION_PORT: scripts/stack.py).
Rasa's shell runs a Rasa server of its own, on a free port (not RASA_PORT, where
`make run`'s Rasa listens). Type /stop to leave."""

import os
import sys

from scripts.stack import BIN, MODEL, ROOT, Stack, free_port


def main() -> None:
    env = Stack.from_env().env()  # Rasa's endpoints.yml reads REDIS_HOST, ..., ACTION_PORT
    command = [
        str(BIN / "rasa"),
        "shell",
        "--model",
        str(MODEL),
        "--endpoints",
        "endpoints.yml",
        "--port",
        str(free_port()),
        *sys.argv[1:],
    ]
    os.chdir(ROOT)
    os.execve(command[0], command, env)


if __name__ == "__main__":
    main()
