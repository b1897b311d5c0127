"""The readings other actions make of the customer's words: a question, a problem told,
a request for a person inside a complaint, a correction, a wait, a question about being a
bot (actions/asides.py answers beside the complaint).

The words are matched folded (no diacritics, lower case), in both languages.
"""

import re
from typing import Sequence

from contract.text import fold


def _folded(text: str) -> str:
    return " ".join(re.findall(r"[^\W_]+|\?", fold(text)))


def _any(patterns: Sequence[str], text: str) -> bool:
    folded = _folded(text)
    return any(re.search(rf"(?<![^\W_]){p}(?![^\W_])", folded) for p in patterns)


QUESTION_OPENERS = (
    "how", "what", "whats", "when", "where", "wheres", "which", "who", "why", "is", "are", "do",
    "does", "did", "can", "could", "will", "would", "should", "may", "any", "lam sao", "cach nao",
)  # fmt: skip


# Vietnamese words that ask wherever they are ("bao lâu thì hàng tới", "hủy rồi thì bao
# lâu nhận lại tiền"), folded...
ASKING_WORDS = (
    "bao lau", "bao nhieu", "may ngay", "may gio", "the nao", "nhu the nao", "ra sao", "lam sao",
    "o dau", "khi nao", "bang cach nao", "la gi",
)  # fmt: skip
# ...and those that ask only at the end of a sentence ("đổi được không").
QUESTION_ENDINGS = (r"\?", "duoc khong", "dc ko", "duoc ko", "dc khong")


def is_question(text: str) -> bool:
    """Asked as a question: a "?", a question word first (how, what, can I, do you...), or
    a Vietnamese question word (bao lâu, thế nào, được không, ở đâu, ... không at the end)."""
    folded = _folded(text)
    if "?" in folded or any(re.match(rf"{w}\b", folded) for w in QUESTION_OPENERS):
        return True
    words = folded.split()
    while len(words) > 1 and words[-1] in TRAILING_PARTICLES:
        words.pop()  # "bao lâu vậy shop", "thế nào ạ": the question is before them
    sentence, tail = " ".join(words), " ".join(words[-3:])
    return (
        _any(ASKING_WORDS, sentence)
        or _any(QUESTION_ENDINGS, tail)
        or (bool(words) and words[-1] in ("khong", "ko", "k", "hok", "hong", "chua"))
    )


# What Vietnamese puts after a question: particles and whom it is asked of ("mất bao lâu
# vậy shop", "làm sao ạ", "được không bạn ơi"), folded.
TRAILING_PARTICLES = frozenset(
    "vay z v a ah a nhi nhe nha ha the shop ban oi em anh chi ad admin mn moi nguoi".split()
)


# Words that tell of something gone wrong (a complaint), not a question about how things work.
PROBLEM_WORDS = (
    "still", "yet", "hasn t", "hasnt", "haven t", "havent", "didn t", "didnt", "never", "late",
    "broken", "broke", "damaged", "smashed", "wrong", "missing", "lost", "stopped", "not working",
    "doesn t work", "doesnt work", "twice", "where is my", "where s my", "wheres my", "disaster",
    "chua nhan", "chua toi", "chua ve", "chua thay", "van chua", "van khong", "tre", "hong roi",
    "bi vo", "vo roi", "sai", "nham", "thieu", "bi mat", "mat hang", "loi roi", "bi tru",
    "dau roi", "sao chua", "hai lan",
)  # fmt: skip


def tells_a_problem(text: str) -> bool:
    return _any(PROBLEM_WORDS, text)


BOT_QUESTION = (
    r"are you (a |an )?(bot|robot|machine|ai|human|real|person|real person)",
    r"(is|am) (this|i) (talking|chatting|speaking) (to|with) (a |an )?(bot|robot|machine|ai|human|real|person)",
    r"is this (a |an )?(bot|robot|chatbot|machine|ai|automated|real person|human)",
    r"(real|actual) (person|human)", r"(a )?(bot|robot|machine) or (a )?(human|person|real)",
    r"(human|person) or (a )?(bot|robot|machine)", r"chat ?bot",
    r"nguoi that", r"(nguoi|nguoi that) hay (la )?(may|bot|robot)", r"(may|bot|robot) hay (la )?nguoi",
    r"(ban|em|shop|ad|day) la (may|bot|robot|ai|chatbot|tro ly ao)", r"tra loi tu dong",
    r"(co phai|phai) (la )?(nguoi|may|bot|robot)", r"dang (noi chuyen|chat|nhan tin) voi (may|bot|robot|nguoi)",
)  # fmt: skip


def asks_if_bot(text: str) -> bool:
    """Whether the message asks if the customer is talking to a machine or a person."""
    return _any(BOT_QUESTION, text)


_PEOPLE = r"(real )?(person|human|someone|somebody|manager|supervisor|agent|operator|boss|staff member)"


PERSON_REQUEST = (
    rf"(talk|speak|chat) (to|with) (a |an |the |your |some )?{_PEOPLE}",
    rf"(get|give|put) me (through )?(to )?(a |an |the |your )?{_PEOPLE}",
    rf"(i )?(want|need|demand) (a |an |the |your |to (talk|speak) (to|with) (a |the |your )?)?{_PEOPLE}",
    r"put me through", r"let me (talk|speak) to",
    r"(cho|muon|can|xin) (em |minh |toi |tui |tao |t )?(gap|noi chuyen voi|lam viec voi) "
    r"(truc tiep )?(quan ly|nhan vien|nguoi|sep|cap tren|nv|ql|ban quan ly)",
    r"gap (quan ly|sep|cap tren|ql|nguoi that)", r"chuyen (cho |sang |qua )?(nhan vien|nguoi that|nv|quan ly)",
)  # fmt: skip


def asks_for_person(text: str) -> bool:
    """Whether the message asks for a person or a manager ("... cho gặp quản lý"), even
    inside a complaint; a person only mentioned ("the manager was rude") is not asked for."""
    return _any(PERSON_REQUEST, text)


WAIT_WORDS = (
    r"wait(ed|ing)?", "too long", "so long", "forever", "ages", "still not", "still hasn t",
    "still hasnt", "still haven t", "taking long", "delayed", "late", "hasn t arrived", "hasnt arrived",
    "doi lau", "cho lau", "lau qua", "lau vay", "lau the", "doi mai", "cho mai", "mai chua",
    "doi hoai", "cho hoai", "tre qua", "cham qua", "giao cham", "giao tre", "chua giao", "chua toi",
    "chua nhan duoc", "doi", "cho doi",
)  # fmt: skip


def mentions_wait(text: str) -> bool:
    """Whether the message gives a wait as its reason ("... vì đợi lâu quá rồi")."""
    return _any(WAIT_WORDS, text)


# A question about the question the bot is asking ("why do you need that?", "what for?",
# "sao phải cho số điện thoại"), folded: the bot's own question, which says why it asks,
# answers it, not the help pages.
ABOUT_THE_ASKING = (
    r"^why\b", r"what (is it |s it |do you need it |do you want it )?for", r"why do (you|u) (need|want)",
    r"what do (you|u) (need|want) (it|that|this|my \w+) for", r"do i (have|need) to", r"is that necessary",
    r"tai sao", r"sao (phai|lai can|can)", r"de lam gi", r"lam gi (vay|the|a)?$", r"can (chi|gi) (vay|the)?$",
    r"co can (khong|ko|k)$", r"(bat buoc|nhat thiet) (phai )?(khong|ko|k)",
)  # fmt: skip


def about_the_asking(text: str) -> bool:
    """Whether the message asks about the bot's own question (why it wants the detail)."""
    return _any(ABOUT_THE_ASKING, text)


CORRECTION = (
    r"^(no|nope|nah|actually|sorry|oops|wait|khong|ko|k|hok|khong khong)\b",
    r"(it s|its|it is|that s|thats) not", r"(isn t|isnt|wasn t|wasnt) (late|broken|damaged|wrong)",
    r"not (late|broken|damaged|the wrong)", r"i (meant|mean)", "my mistake", "correction",
    r"(khong|ko|k|hok) phai", "nham", r"y (minh|em|toi|tui) la", "sai roi",
)  # fmt: skip


def corrects(text: str) -> bool:
    """Whether the message corrects what was said before ("no, it's not late, ...")."""
    return _any(CORRECTION, text)
