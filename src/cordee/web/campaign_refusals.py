"""The campaign actions' refusals, in the page's language.

The actions speak English, as the API does (``{"error": "Validation failed: …"}``); the campaign
and chapter pages show the same refusal translated. Each fixed message is listed here with ``N_``
so that the catalogue extraction keeps it; the few messages built with a value (a field's
maximum length, the note's character count) are matched by pattern and given a sentence of their
own. tests/web/test_campaign_pages.py checks that every refusal the campaign actions can raise
has its French translation.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from starlette.requests import Request

from cordee.actions.errors import ActionError
from cordee.web.compose import TOO_LONG
from cordee.web.i18n import N_, choose_language, translations

#: Fixed refusals, message id = the action's own text (without "Validation failed: ").
REFUSALS = (
    # Permissions.
    N_("This action is reserved to the chapter's organisers"),
    N_("This action is reserved to the campaign's organisers"),
    N_("Only the campaign's organisers approve chapters"),
    N_("A paid ticket is cancelled by the event's organisers"),
    # Campaigns and chapters.
    N_("Title can't be blank"),
    N_("City can't be blank"),
    N_("Venue can't be blank"),
    N_("Hashtag must be letters, digits or underscores"),
    N_("Hashtag is already used by another campaign"),
    N_("Hashtag is already used by another chapter"),
    N_("Currency must be an ISO 4217 code (EUR, USD…)"),
    N_("Locale is not known (fr_FR, en_GB…)"),
    N_("Time zone must be an IANA name (Europe/Paris…)"),
    N_("Start time is out of range"),
    N_("End time is out of range"),
    N_("The end must come after the start"),
    N_("Goal is out of range"),
    N_("The chapter is not approved yet"),
    N_("Role must be one of lead, treasurer, door"),
    N_("A chapter needs at least one lead"),
    N_("This person was given a role at the same moment; try again"),
    # Tickets and payments.
    N_("Name can't be blank"),
    N_("Capacity is out of range"),
    N_("Price is out of range"),
    N_("You already have a ticket for this event"),
    N_("Provider must be one of offline"),
    N_("Only a confirmed ticket is paid"),
    N_("This ticket is free"),
    N_("This ticket is already paid"),
    # The ledger.
    N_("Kind must be one of ticket, raffle, donation"),
    N_("Amount is out of range"),
    N_("A correction is a non-zero whole number of cents"),
    N_("A correction needs a note saying why"),
    N_("Correct the original entry, not a correction"),
    N_("The entry would fall below zero"),
    # The raffle.
    N_("Commitment must be a hex SHA-256 (64 characters)"),
    N_("This chapter already has a raffle"),
    N_("Prizes must be between 1 and 100"),
    N_("Holder can't be blank"),
    N_("Count must be between 1 and 100"),
    N_("The raffle has been drawn; sales are closed"),
    N_("Seed must be 1 to 128 characters"),
    N_("This seed does not match the commitment"),
    N_("The raffle has already been drawn"),
    N_("A sale happened during the draw; draw again"),
    N_("Fewer tickets sold than prizes"),
    # The wall.
    N_("moderation must be one of after, before"),
    # Announcements.
    N_("Text can't be blank"),
)

#: ``clean_text``'s "<Field> is too long (maximum is N characters)", one sentence per field (the
#: French sentence agrees with the field's gender).
TOO_LONG_FIELDS = {
    "Title": N_("The title is too long: at most %(max)d characters."),
    "Cause": N_("The cause is too long: at most %(max)d characters."),
    "City": N_("The city is too long: at most %(max)d characters."),
    "Venue": N_("The venue is too long: at most %(max)d characters."),
    "Name": N_("The name is too long: at most %(max)d characters."),
    "Holder": N_("The holder's name is too long: at most %(max)d characters."),
    "Note": N_("The note is too long: at most %(max)d characters."),
}
_TOO_LONG = re.compile(r"^(\w+) is too long \(maximum is (\d+) characters\)$")
_CHARACTERS = re.compile(r"character limit of (\d+) exceeded \(this note counts (\d+)\)")


def readable(message: str, gettext: Callable[[str], str]) -> str:
    """An action's refusal ``message`` through ``gettext`` (as it is when no translation exists)."""
    message = message.removeprefix("Validation failed: ")
    too_long = _TOO_LONG.match(message)
    if too_long is not None and too_long.group(1) in TOO_LONG_FIELDS:
        return gettext(TOO_LONG_FIELDS[too_long.group(1)]) % {"max": int(too_long.group(2))}
    characters = _CHARACTERS.search(message)
    if characters is not None:  # an announcement is a note: the compose form's sentence
        limit, count = (int(n) for n in characters.groups())
        return gettext(TOO_LONG) % {"count": count, "limit": limit}
    return gettext(message)


def refusal(request: Request, error: ActionError) -> str:
    """``error``'s message in the request's language."""
    return readable(error.message, translations(choose_language(request)).gettext)
