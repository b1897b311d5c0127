"""Every Redis key the project writes, in one place.

All keys start with PREFIX, clear of Rasa's own tracker and lock keys (endpoints.yml
gives those the prefixes "rasatracker" and "rasalock"). Customer memory and cases
expire MEMORY_TTL seconds after their last write; the demo shop data does not expire.
"""

PREFIX = "sr"
MEMORY_TTL = 180 * 24 * 3600  # six months: long enough to recognise a returning customer


def identity(kind: str, value: str) -> str:
    """Points one identity (sender, email, phone, order) at a customer id."""
    return f"{PREFIX}:identity:{kind}:{value.lower()}"


def customer(customer_id: str) -> str:
    """Hash of the details a customer has given (never ask again)."""
    return f"{PREFIX}:customer:{customer_id}"


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


def shop_phone(phone: str) -> str:
    """Phone number -> the shop customer's email."""
    return f"{PREFIX}:shop:phone:{phone}"


def shop_orders_of(email: str) -> str:
    """Sorted set of a shop customer's order ids, most recent highest."""
    return f"{PREFIX}:shop:orders:{email.lower()}"
