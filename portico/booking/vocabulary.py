"""The fixed lists an online profile chooses from: specialties and spoken languages. Codes are
stored; labels are translated when shown, and search filters on codes."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Specialty(models.TextChoices):
    ALLERGY = "allergy-immunology", _("Allergy and immunology")
    CARDIOLOGY = "cardiology", _("Cardiology")
    DERMATOLOGY = "dermatology", _("Dermatology")
    ENDOCRINOLOGY = "endocrinology", _("Endocrinology")
    FAMILY_MEDICINE = "family-medicine", _("Family medicine")
    GASTROENTEROLOGY = "gastroenterology", _("Gastroenterology")
    GERIATRICS = "geriatrics", _("Geriatric medicine")
    INTERNAL_MEDICINE = "internal-medicine", _("Internal medicine")
    NEUROLOGY = "neurology", _("Neurology")
    OBSTETRICS = "obstetrics-gynecology", _("Obstetrics and gynecology")
    OPHTHALMOLOGY = "ophthalmology", _("Ophthalmology")
    ORTHOPEDICS = "orthopedics", _("Orthopedics")
    PEDIATRICS = "pediatrics", _("Pediatrics")
    PSYCHIATRY = "psychiatry", _("Psychiatry")
    PULMONOLOGY = "pulmonology", _("Pulmonology")
    SPORTS_MEDICINE = "sports-medicine", _("Sports medicine")
    UROLOGY = "urology", _("Urology")
    WOMENS_HEALTH = "womens-health", _("Women's health")


class SpokenLanguage(models.TextChoices):
    # ISO 639-1 codes (schema.org knowsLanguage takes them as they are).
    ENGLISH = "en", _("English")
    SPANISH = "es", _("Spanish")
    CHINESE = "zh", _("Chinese")
    VIETNAMESE = "vi", _("Vietnamese")
    TAGALOG = "tl", _("Tagalog")
    ARABIC = "ar", _("Arabic")
    FRENCH = "fr", _("French")
    KOREAN = "ko", _("Korean")
    RUSSIAN = "ru", _("Russian")
    PORTUGUESE = "pt", _("Portuguese")
    HAITIAN_CREOLE = "ht", _("Haitian Creole")
    HINDI = "hi", _("Hindi")
    GERMAN = "de", _("German")
    POLISH = "pl", _("Polish")
    ASL = "sgn", _("American Sign Language")


def label_of(vocabulary: type[models.TextChoices], code: str) -> str:
    """The label of a stored code in the active language (the code itself if the list no longer
    has it). A model's get_FOO_display() builds a dict of every choice on each call; a search
    page shows dozens of labels."""
    try:
        return str(vocabulary(code).label)
    except ValueError:
        return code
