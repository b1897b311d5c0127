"""Every Redis key the project writes, in one place.

All keys start with PREFIX, clear of Rasa's own tracker and lock keys (endpoints.yml
gives those the prefixes "rasatracker" and "rasalock"). Customer memory and cases
expire MEMORY_RETENTION_DAYS after their last write; the demo shop data does not expire.
"""

PREFIX = "sr"
# Default retention of customer memory (MEMORY_RETENTION_DAYS): six months, long
# enough to recognise a returning customer.
MEMORY_RETENTION_DAYS = 180
RASA_TRACKER_PREFIX = "rasatracker:tracker:"  # endpoints.yml key_prefix + Rasa's own


def identity(kind: str, value: str) -> str:
    """Points one identity (sender, shop, email, phone) at a customer id."""
    return f"{PREFIX}:identity:{kind}:{value.lower()}"


def customer(customer_id: str) -> str:
    """Hash of the details a customer has given (never ask again)."""
    return f"{PREFIX}:customer:{customer_id}"


def customer_identities(customer_id: str) -> str:
    """Set of the identity keys that point at this customer (for merging and forgetting)."""
    return f"{PREFIX}:customer:{customer_id}:identities"


def rasa_tracker(sender_id: str) -> str:
    """Rasa's tracker of a conversation (Rasa writes it; we only delete it on forget)."""
    return RASA_TRACKER_PREFIX + sender_id


def customer_cases(customer_id: str) -> str:
    """Sorted set of the customer's case references, scored by creation time."""
    return f"{PREFIX}:customer:{customer_id}:cases"


def case(ref: str) -> str:
    """JSON document of one case (complaint, details, remedies, handoff packet)."""
    return f"{PREFIX}:case:{ref}"


SHOP_LOADED = f"{PREFIX}:shop:loaded"  # fingerprint of the demo data last loaded


def shop_order(order_id: str) -> str:
    return f"{PREFIX}:shop:order:{order_id}"


def shop_customer(email: str) -> str:
    return f"{PREFIX}:shop:customer:{email.lower()}"


def shop_customer_id(customer_id: str) -> str:
    """The shop's customer id -> the shop customer's email."""
    return f"{PREFIX}:shop:customer-id:{customer_id}"


def shop_phone(phone: str) -> str:
    """Phone number -> the shop customer's email."""
    return f"{PREFIX}:shop:phone:{phone}"


def shop_orders_of(email: str) -> str:
    """Sorted set of a shop customer's order ids, most recent highest."""
    return f"{PREFIX}:shop:orders:{email.lower()}"
