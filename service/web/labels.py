"""Words for the service's status and side codes, marked for translation (``N_``)."""

from __future__ import annotations


def N_(text: str) -> str:  # gettext's name for "translate later"
    return text


CODES = {
    # permits
    "active": N_("active"),
    "suspended": N_("suspended"),
    "cancelled": N_("cancelled"),
    "expired": N_("expired"),
    # assurances
    "requested": N_("requested"),
    "submitted": N_("submitted"),
    "accepted": N_("accepted"),
    "rejected": N_("rejected"),
    "withdrawn": N_("withdrawn"),
    "breached": N_("breached"),
    # consultations
    "open": N_("open"),
    "awaiting_response": N_("awaiting response"),
    "closed": N_("closed"),
    # notices
    "draft": N_("draft"),
    "issued": N_("issued"),
    "acknowledged": N_("acknowledged"),
    # webhook deliveries
    "pending": N_("pending"),
    "delivering": N_("delivering"),
    "delivered": N_("delivered"),
    "failed": N_("failed"),
    # sides
    "authority": N_("licensing authority"),
    "counterpart": N_("counterpart ministry"),
    "observer": N_("observer"),
}


def label(gettext, code: str | None) -> str:
    if code is None:
        return ""
    return gettext(CODES[code]) if code in CODES else code.replace("_", " ")
