"""Intent names both sides rely on: the complaint types (the playbook has an entry for
each; the hub lets their "which of these?" buttons through to Rasa)."""

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
