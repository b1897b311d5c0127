"""Names both sides rely on: the complaint types (the playbook has an entry for each; the
hub lets their "which of these?" buttons through to Rasa), and the remedy families (the
NLU's `remedy` entity names one; the playbook says which remedies belong to it)."""

COMPLAINT_TYPES = (
    "complain_delivery",
    "complain_damaged",
    "complain_wrong_item",
    "complain_defect",
    "complain_billing",
    "complain_refund",
    "complain_staff",
    "complain_wait",
    "complain_account",
)
# A complaint that does not say yet what went wrong ("I'd like to make a complaint",
# "tôi muốn khiếu nại"): counted in P(complaint), but not a type (no playbook entry, no
# "which of these?" button); the bot asks what happened.
GENERAL_COMPLAINT = "complain_general"

# What a customer can ask for in words ("money back", "doi hang"): the values of the
# NLU's `remedy` entity (nlu/details.py REMEDY_PHRASES), and each playbook remedy's
# `families`, so "exchange" finds the shop's exchange as well as its replacement.
REMEDY_FAMILIES = ("refund", "replacement", "reship", "voucher")

# The parse-data key (true or false) that says a message turns the offer down ("neither,
# I just want my money back"): set by nlu/components.py DetailExtractor, read by the
# actions, so the remedy named is not the offered one of its family.
DECLINES_OFFER = "declines_offer"

# The parse-data key (a list of remedy families) for the remedies a message names only to
# refuse them ("no, not a refund"): never the one the customer wants.
REFUSED_REMEDIES = "refused_remedies"
