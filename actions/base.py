"""The base of the actions that follow the shop's playbook.

rasa_sdk makes one of every action class in the package when the action server starts.
A PlaybookAction loads the playbook when it is made (actions/playbook.py
shop_playbook, once per process), so a bad playbook stops the server at start-up with
its PlaybookError, naming the file and the line, before any customer writes; so does
a bad order backend configuration (actions/backends `check_configuration`: a missing
setting, a bad status table). Importing an action module loads nothing.
"""

from abc import ABC, abstractmethod
from typing import Text

from rasa_sdk import Action

from actions.backends import check_configuration
from actions.playbook import shop_playbook


class PlaybookAction(Action, ABC):
    """Abstract (it names no action), so rasa_sdk does not register it itself."""

    def __init__(self) -> None:
        super().__init__()
        shop_playbook()
        check_configuration()

    @abstractmethod
    def name(self) -> Text: ...
