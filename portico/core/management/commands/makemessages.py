"""Django's makemessages, without guessing: a new string starts untranslated.

gettext's fuzzy matching would give a new "Token name" the Spanish of "Legal name" (marked
fuzzy, so never shown, yet easy to miss); Portico's catalogue test wants every new string
translated on purpose.
"""

from django.core.management.commands import makemessages


class Command(makemessages.Command):
    msgmerge_options = [*makemessages.Command.msgmerge_options, "--no-fuzzy-matching"]
