"""The patient chart: demographics (SPEC §2.1), encounters and clinical lists (SPEC §2.2)."""

from __future__ import annotations

import uuid

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from portico.core.languages import spoken


class Sex(models.TextChoices):
    FEMALE = "female", _("Female")
    MALE = "male", _("Male")
    OTHER = "other", pgettext_lazy("sex", "Other")
    UNKNOWN = "unknown", pgettext_lazy("sex", "Unknown")


class Language(models.TextChoices):
    """Languages a US practice's patients commonly prefer, by their BCP 47 code."""

    ENGLISH = "en", _("English")
    SPANISH = "es", _("Spanish")
    CHINESE = "zh", _("Chinese")
    VIETNAMESE = "vi", _("Vietnamese")
    TAGALOG = "tl", _("Tagalog")
    ARABIC = "ar", _("Arabic")
    FRENCH = "fr", _("French")
    HAITIAN_CREOLE = "ht", _("Haitian Creole")
    KOREAN = "ko", _("Korean")
    RUSSIAN = "ru", _("Russian")
    PORTUGUESE = "pt", _("Portuguese")
    GERMAN = "de", _("German")
    POLISH = "pl", _("Polish")
    ITALIAN = "it", _("Italian")
    HINDI = "hi", _("Hindi")
    JAPANESE = "ja", _("Japanese")
    PERSIAN = "fa", _("Persian")
    URDU = "ur", _("Urdu")
    SOMALI = "so", _("Somali")


class Patient(models.Model):
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    practice = models.ForeignKey(
        "practices.Practice", on_delete=models.PROTECT, related_name="patients"
    )
    legal_first_name = models.CharField(max_length=100)
    legal_last_name = models.CharField(max_length=100)
    preferred_name = models.CharField(max_length=100, blank=True)
    date_of_birth = models.DateField()
    sex = models.CharField(max_length=10, choices=Sex.choices, default=Sex.UNKNOWN)
    email = models.EmailField(blank=True)
    # Stored in E.164 (+15551234567); see charts.validation.normalize_phone.
    mobile_phone = models.CharField(max_length=20, blank=True)
    address_line1 = models.CharField(max_length=200, blank=True)
    address_line2 = models.CharField(max_length=200, blank=True)
    city = models.CharField(max_length=100, blank=True)
    state = models.CharField(max_length=50, blank=True)
    postal_code = models.CharField(max_length=20, blank=True)
    # A BCP 47 code, or "" (not recorded). When the portal speaks it (settings.LANGUAGES), the
    # patient's portal pages and emails use it until they choose a language (portal.language).
    preferred_language = models.CharField(
        "Preferred language", max_length=16, blank=True, choices=Language.choices
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # Raised by every change to the chart's clinical record (services call
    # charts.record_cache.record_changed), so a rendering of the record cached under
    # (public_id, record_version) is never shown stale.
    record_version = models.PositiveBigIntegerField(default=0, editable=False)

    class Meta:
        ordering = ["legal_last_name", "legal_first_name", "id"]
        indexes = [
            models.Index(fields=["practice", "legal_last_name", "legal_first_name"]),
            models.Index(fields=["practice", "date_of_birth"]),
        ]

    def __str__(self) -> str:
        return self.full_name

    def save(self, *args, **kwargs):
        # A chart read before a record change and saved whole after it must not write its old
        # record_version back (that would bring a stale cached rendering back to life): only
        # record_changed() writes the field once the row exists.
        if not self._state.adding and kwargs.get("update_fields") is None:
            kwargs["update_fields"] = [
                f.name
                for f in self._meta.concrete_fields
                if not f.primary_key and f.name != "record_version"
            ]
        super().save(*args, **kwargs)

    @property
    def portal_language(self) -> str:
        """The preferred language when the portal speaks it (settings.LANGUAGES), else ""."""
        return spoken(self.preferred_language)

    @property
    def full_name(self) -> str:
        return f"{self.legal_first_name} {self.legal_last_name}".strip()

    @property
    def display_name(self) -> str:
        """Legal name, with the preferred name in quotes when there is one."""
        if self.preferred_name and self.preferred_name != self.legal_first_name:
            return f'{self.legal_first_name} "{self.preferred_name}" {self.legal_last_name}'
        return self.full_name


class EncounterQuerySet(models.QuerySet):
    def visible_to_patient(self, *, confidential: bool = True):
        """Encounters whose summary the patient's record shows: signed and note shared.

        `confidential=False` reads the record as a representative sees it: without the
        encounters marked confidential from representatives (see `Encounter`)."""
        visible = self.filter(signed_at__isnull=False, note_shared_with_patient=True)
        if not confidential:
            visible = visible.filter(confidential_from_representatives=False)
        return visible


class Encounter(models.Model):
    """A visit: a dated note that a provider signs (SPEC §2.2).

    Once signed it cannot be edited, only amended (`EncounterAmendment`). Clinical items may
    be attached to it (their `encounter`); each keeps its own `shared_with_patient` flag.
    """

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    practice = models.ForeignKey(
        "practices.Practice", on_delete=models.PROTECT, related_name="encounters"
    )
    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="encounters")
    provider = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    visit_date = models.DateField()
    note = models.TextField(blank=True)
    created_by = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    signed_at = models.DateTimeField(null=True, blank=True)
    signed_by = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # The provider's choice: does the patient's record show this visit's summary (note and
    # amendments)? Only ever shown once signed; see `is_visible_to_patient`.
    note_shared_with_patient = models.BooleanField(default=False)
    # SPEC §9.3: the visit is kept from the patient's representatives (sexual health, mental
    # health, substance use...): its summary and every item attached to it. The patient still
    # sees what is shared with them. Set and cleared through charts.services.
    confidential_from_representatives = models.BooleanField(
        "Confidential from representatives", default=False
    )

    objects = EncounterQuerySet.as_manager()

    class Meta:
        ordering = ["-visit_date", "-id"]
        indexes = [
            models.Index(fields=["patient", "visit_date"]),
            models.Index(fields=["practice", "signed_at", "visit_date"]),
        ]

    def __str__(self) -> str:
        return f"encounter {self.public_id}"

    @property
    def is_signed(self) -> bool:
        return self.signed_at is not None

    @property
    def is_visible_to_patient(self) -> bool:
        """Whether the patient's record shows this encounter's summary (SPEC §6.1).

        Exactly when it is signed and its provider chose to share the note
        (`note_shared_with_patient`). The summary is the visit date, the provider, the note
        and its amendments. Items attached to the encounter (labs, vitals, ...) are shown or
        not by their own `shared_with_patient` flag, whatever this one says.
        """
        return self.is_signed and self.note_shared_with_patient


class EncounterAmendment(models.Model):
    """A correction or addendum to a signed encounter; the only change a signed note admits.

    Shown to the patient exactly when the encounter's summary is (`is_visible_to_patient`).
    """

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    encounter = models.ForeignKey(Encounter, on_delete=models.CASCADE, related_name="amendments")
    text = models.TextField()
    author = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"amendment {self.public_id}"


# ---------------------------------------------------------------------------------------------
# Clinical lists (SPEC §2.2)
# ---------------------------------------------------------------------------------------------


class CodeSystem(models.TextChoices):
    """Code systems of coded items; `CODE_SYSTEM_URIS` gives the FHIR system URI of each."""

    ICD10CM = "icd10cm", "ICD-10-CM"
    RXNORM = "rxnorm", "RxNorm"
    CVX = "cvx", "CVX"
    LOINC = "loinc", "LOINC"
    SNOMED = "snomed", "SNOMED CT"
    CPT = "cpt", "CPT"
    HCPCS = "hcpcs", "HCPCS"


CODE_SYSTEM_URIS = {
    CodeSystem.ICD10CM: "http://hl7.org/fhir/sid/icd-10-cm",
    CodeSystem.RXNORM: "http://www.nlm.nih.gov/research/umls/rxnorm",
    CodeSystem.CVX: "http://hl7.org/fhir/sid/cvx",
    CodeSystem.LOINC: "http://loinc.org",
    CodeSystem.SNOMED: "http://snomed.info/sct",
    CodeSystem.CPT: "http://www.ama-assn.org/go/cpt",
    CodeSystem.HCPCS: "https://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets",
}


class ClinicalItemQuerySet(models.QuerySet):
    def shared(self, *, confidential: bool = True):
        """Only what the patient may see: rows whose `shared_with_patient` is True.

        `confidential=False` is what a representative may see (SPEC §9.3): also without the
        items marked confidential from representatives and the items attached to an encounter
        so marked (see `ClinicalItem`). Callers take the value from the access's scope
        (portal.representation.scope_of(access).confidential)."""
        shared = self.filter(shared_with_patient=True)
        if not confidential:
            shared = shared.filter(
                models.Q(encounter__isnull=True)
                | models.Q(encounter__confidential_from_representatives=False),
                confidential_from_representatives=False,
            )
        return shared

    def newest_first(self):
        return self.order_by("-recorded_on", "-id")


class ClinicalItem(models.Model):
    """What every entry of a clinical list has (an abstract base, no table of its own).

    `shared_with_patient` is the one and only switch for the patient's record: the patient
    sees an item exactly when it is True; when False, nothing of the item (not even that it
    exists, nor a count) reaches the patient. The flag does not depend on the encounter the
    item is attached to, nor on whether that encounter is signed or its note shared.
    Each kind starts with its own default (`SHARED_BY_DEFAULT`): lab results start unshared
    (shared once reviewed), every other kind starts shared.

    `recorded_on` is the item's clinical date (onset, start, given, performed, measured,
    collected...; `RECORDED_ON_LABEL` names it for each kind); lists show newest first.
    Items attached to a signed encounter cannot be edited (only their sharing and
    confidentiality may change); the encounter is amended instead.

    `confidential_from_representatives` (SPEC §9.3) keeps a shared item from everyone who sees
    the record on the patient's behalf (portal.Representative), at every age of the patient;
    the patient still sees it. An item attached to an encounter marked confidential is kept
    from them as well, whatever its own flag says: a provider who marks a sexual-health visit
    confidential means its results too, and hiding a little more from a representative is the
    safe way to be wrong. `ClinicalItemQuerySet.shared(confidential=False)` is the one reading
    of the rule.
    """

    SHARED_BY_DEFAULT = True
    RECORDED_ON_LABEL = _("Date")

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    practice = models.ForeignKey("practices.Practice", on_delete=models.PROTECT, related_name="+")
    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="%(class)ss")
    encounter = models.ForeignKey(
        Encounter,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="%(class)ss",
    )
    recorded_on = models.DateField()
    shared_with_patient = models.BooleanField(default=True)
    confidential_from_representatives = models.BooleanField(
        "Confidential from representatives", default=False
    )
    created_by = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_by = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ClinicalItemQuerySet.as_manager()

    class Meta:
        abstract = True
        ordering = ["-recorded_on", "-id"]
        indexes = [
            models.Index(
                fields=["patient", "-recorded_on", "-id"], name="%(app_label)s_%(class)s_newest"
            ),
        ]

    def __str__(self) -> str:
        return f"{self._meta.model_name} {self.public_id}"


class CodedItem(ClinicalItem):
    """An item named by a code of a code system and a readable display; the code may be
    blank (free text) when no code fits. The display is always filled."""

    CODE_SYSTEM = ""  # the kind's usual system, used when a code is given without one

    code_system = models.CharField(max_length=10, choices=CodeSystem.choices, blank=True)
    code = models.CharField(max_length=20, blank=True)
    display = models.CharField(max_length=200)

    class Meta(ClinicalItem.Meta):
        abstract = True

    @property
    def code_system_uri(self) -> str:
        return CODE_SYSTEM_URIS.get(self.code_system, "")


class ProblemStatus(models.TextChoices):
    ACTIVE = "active", _("Active")
    RESOLVED = "resolved", _("Resolved")


class Problem(CodedItem):
    """A diagnosis or problem (ICD-10-CM); `recorded_on` is the onset."""

    CODE_SYSTEM = CodeSystem.ICD10CM
    RECORDED_ON_LABEL = _("Onset")

    status = models.CharField(
        max_length=10, choices=ProblemStatus.choices, default=ProblemStatus.ACTIVE
    )
    resolved_on = models.DateField(null=True, blank=True)

    class Meta(CodedItem.Meta):
        pass


class MedicationStatus(models.TextChoices):
    ACTIVE = "active", _("Active")
    STOPPED = "stopped", _("Stopped")


class Medication(CodedItem):
    """A medication (RxNorm); `display` is its name, `recorded_on` the start date."""

    CODE_SYSTEM = CodeSystem.RXNORM
    RECORDED_ON_LABEL = _("Start date")

    instructions = models.CharField(max_length=300, blank=True)  # dose and instructions
    stop_date = models.DateField(null=True, blank=True)
    status = models.CharField(
        max_length=10, choices=MedicationStatus.choices, default=MedicationStatus.ACTIVE
    )

    class Meta(CodedItem.Meta):
        pass


class AllergySeverity(models.TextChoices):
    MILD = "mild", _("Mild")
    MODERATE = "moderate", _("Moderate")
    SEVERE = "severe", _("Severe")
    UNKNOWN = "unknown", pgettext_lazy("allergy severity", "Unknown")


class Allergy(CodedItem):
    """An allergy or intolerance: the substance (code optional, display required), the
    reaction and its severity; `recorded_on` is when it was noted."""

    CODE_SYSTEM = CodeSystem.RXNORM
    RECORDED_ON_LABEL = _("Noted on")

    reaction = models.CharField(max_length=200, blank=True)
    severity = models.CharField(
        max_length=10, choices=AllergySeverity.choices, default=AllergySeverity.UNKNOWN
    )

    # Named by hand: the base's "%(class)ss" would spell it "allergys".
    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="allergies")
    encounter = models.ForeignKey(
        Encounter, null=True, blank=True, on_delete=models.SET_NULL, related_name="allergies"
    )

    class Meta(CodedItem.Meta):
        verbose_name_plural = "allergies"


class Immunization(CodedItem):
    """A vaccine given (CVX); `recorded_on` is the date given."""

    CODE_SYSTEM = CodeSystem.CVX
    RECORDED_ON_LABEL = _("Date given")

    lot_number = models.CharField(max_length=40, blank=True)

    class Meta(CodedItem.Meta):
        pass


class Procedure(CodedItem):
    """A procedure performed (CPT, SNOMED CT, HCPCS... or free text)."""

    CODE_SYSTEM = CodeSystem.CPT
    RECORDED_ON_LABEL = _("Date performed")

    class Meta(CodedItem.Meta):
        pass


class CarePlan(ClinicalItem):
    """A plan of care in words, from `recorded_on` (start) to an optional end date."""

    RECORDED_ON_LABEL = _("Start date")

    title = models.CharField(max_length=200)
    text = models.TextField(blank=True)
    end_date = models.DateField(null=True, blank=True)

    class Meta(ClinicalItem.Meta):
        pass


class VitalKind(models.TextChoices):
    BP_SYSTOLIC = "bp_systolic", _("Blood pressure, systolic")
    BP_DIASTOLIC = "bp_diastolic", _("Blood pressure, diastolic")
    HEART_RATE = "heart_rate", _("Heart rate")
    RESPIRATORY_RATE = "respiratory_rate", _("Respiratory rate")
    TEMPERATURE = "temperature", _("Body temperature")
    WEIGHT = "weight", _("Body weight")
    HEIGHT = "height", _("Body height")
    BMI = "bmi", _("Body mass index")
    OXYGEN_SATURATION = "spo2", _("Oxygen saturation")


# LOINC code, UCUM unit, readable unit (in the reader's language), and the plausible range of
# values for each kind.
VITAL_DEFINITIONS = {
    VitalKind.BP_SYSTOLIC: ("8480-6", "mm[Hg]", "mmHg", (40, 300)),
    VitalKind.BP_DIASTOLIC: ("8462-4", "mm[Hg]", "mmHg", (20, 200)),
    VitalKind.HEART_RATE: ("8867-4", "/min", _("beats/min"), (20, 250)),
    VitalKind.RESPIRATORY_RATE: ("9279-1", "/min", _("breaths/min"), (4, 80)),
    VitalKind.TEMPERATURE: ("8310-5", "[degF]", "°F", (85, 115)),
    VitalKind.WEIGHT: ("29463-7", "[lb_av]", "lb", (0.5, 1500)),
    VitalKind.HEIGHT: ("8302-2", "[in_i]", pgettext_lazy("unit of length: inches", "in"), (8, 108)),
    VitalKind.BMI: ("39156-5", "kg/m2", "kg/m²", (5, 150)),
    VitalKind.OXYGEN_SATURATION: ("59408-5", "%", "%", (30, 100)),
}


class Vital(ClinicalItem):
    """One vital-sign measurement; `code` (LOINC) and `unit` (UCUM) follow from `kind`.
    Blood pressure is two rows (systolic and diastolic) of the same date and encounter."""

    RECORDED_ON_LABEL = _("Date measured")

    kind = models.CharField(max_length=20, choices=VitalKind.choices)
    code = models.CharField(max_length=20)
    value = models.DecimalField(max_digits=7, decimal_places=2)
    unit = models.CharField(max_length=20)

    class Meta(ClinicalItem.Meta):
        pass

    @property
    def unit_display(self) -> str:
        definition = VITAL_DEFINITIONS.get(self.kind)
        return str(definition[2]) if definition else self.unit


class AbnormalFlag(models.TextChoices):
    NORMAL = "N", _("Normal")
    HIGH = "H", _("High")
    LOW = "L", _("Low")
    ABNORMAL = "A", _("Abnormal")


class LabResult(CodedItem):
    """One lab result (LOINC); `recorded_on` is the collection date.

    `value` is as reported (a number such as "5.8", or words such as "Negative");
    `value_number` holds it as a number when it is one. Starts unshared: the patient sees a
    result only after staff mark it shared (typically once a provider has reviewed it).
    """

    SHARED_BY_DEFAULT = False
    CODE_SYSTEM = CodeSystem.LOINC
    RECORDED_ON_LABEL = _("Collected on")

    value = models.CharField(max_length=100)
    value_number = models.DecimalField(max_digits=12, decimal_places=4, null=True, blank=True)
    unit = models.CharField(max_length=30, blank=True)
    reference_low = models.DecimalField(max_digits=12, decimal_places=4, null=True, blank=True)
    reference_high = models.DecimalField(max_digits=12, decimal_places=4, null=True, blank=True)
    reference_text = models.CharField(max_length=100, blank=True)
    flag = models.CharField(max_length=1, choices=AbnormalFlag.choices, default=AbnormalFlag.NORMAL)

    class Meta(CodedItem.Meta):
        pass

    @property
    def is_abnormal(self) -> bool:
        return self.flag != AbnormalFlag.NORMAL

    @property
    def reference_range(self) -> str:
        """The range as people read it: "3.5–5.0", "< 200", "> 40", or the text given."""
        low, high = self.reference_low, self.reference_high
        if low is not None and high is not None:
            return f"{low.normalize():f}–{high.normalize():f}"
        if high is not None:
            return f"< {high.normalize():f}"
        if low is not None:
            return f"> {low.normalize():f}"
        return self.reference_text


class AssessmentKind(models.TextChoices):
    SCREENING = "screening", _("Screening")
    INTERVENTION = "intervention", _("Intervention")
    ASSESSMENT = "assessment", _("Assessment")


class Assessment(CodedItem):
    """Screenings, interventions and assessments in one list, told apart by `kind`
    (e.g. a PHQ-9 depression screening with its score, smoking-cessation counselling)."""

    CODE_SYSTEM = CodeSystem.LOINC
    RECORDED_ON_LABEL = _("Date")

    kind = models.CharField(max_length=15, choices=AssessmentKind.choices)
    result = models.CharField(max_length=200, blank=True)

    class Meta(CodedItem.Meta):
        pass


# The clinical lists in the order the chart shows them, by the slug used in URLs.
CLINICAL_LISTS: dict[str, type[ClinicalItem]] = {
    "problems": Problem,
    "medications": Medication,
    "allergies": Allergy,
    "immunizations": Immunization,
    "procedures": Procedure,
    "care-plans": CarePlan,
    "vitals": Vital,
    "labs": LabResult,
    "assessments": Assessment,
}
