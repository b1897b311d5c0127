"""python -m bot: run the hub with settings from the environment (bot/settings.py)."""

from bot.app import main

main()
