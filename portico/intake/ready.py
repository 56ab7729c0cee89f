"""The two templates Portico ships ready to use (issue 18): "New patient" and "Follow-up visit".

A practice installs them from EHR Settings > Intake (intake.services.ready_template_install)
and edits them like any other. Their text is written in English, like the rest of a practice's
own content.
"""

from __future__ import annotations

import re

from portico.intake.definition import QuestionType as T


def _q(key, kind, text, *, required=False, **more) -> dict:
    return {"key": key, "type": kind, "text": text, "required": required, **more}


def _choices(*labels: str) -> list[dict]:
    return [
        {"value": re.sub(r"[^a-z0-9]+", "_", label.lower()).strip("_"), "label": label}
        for label in labels
    ]


CONSENT_TO_TREAT = (
    "I agree to be examined and treated by the providers of this practice. I understand that I "
    "may ask questions about my care at any time and that I may refuse any treatment. I agree "
    "that the practice may share my health information with my insurer to be paid for my care."
)

NEW_PATIENT = {
    "sections": [
        {
            "key": "about_you",
            "title": "About you",
            "description": "Check that we have your details right.",
            "questions": [
                _q(
                    "preferred_name",
                    T.SHORT_TEXT,
                    "Name you like to be called",
                    chart_field="preferred_name",
                ),
                _q("mobile_phone", T.SHORT_TEXT, "Mobile phone", chart_field="mobile_phone"),
                _q("email", T.SHORT_TEXT, "Email", chart_field="email"),
                _q(
                    "address_line1",
                    T.SHORT_TEXT,
                    "Street address",
                    required=True,
                    chart_field="address_line1",
                ),
                _q(
                    "address_line2",
                    T.SHORT_TEXT,
                    "Apartment, suite (optional)",
                    chart_field="address_line2",
                ),
                _q("city", T.SHORT_TEXT, "City", required=True, chart_field="city"),
                _q("state", T.SHORT_TEXT, "State", required=True, chart_field="state"),
                _q(
                    "postal_code",
                    T.SHORT_TEXT,
                    "ZIP code",
                    required=True,
                    chart_field="postal_code",
                ),
                _q("emergency_contact", T.SHORT_TEXT, "Emergency contact (name and phone)"),
            ],
        },
        {
            "key": "insurance",
            "title": "Insurance",
            "questions": [
                _q("has_insurance", T.YES_NO, "Do you have health insurance?", required=True),
                _q(
                    "insurer",
                    T.SHORT_TEXT,
                    "Insurance company",
                    required=True,
                    show_if={"question": "has_insurance", "equals": "yes"},
                ),
                _q(
                    "member_id",
                    T.SHORT_TEXT,
                    "Member ID",
                    required=True,
                    show_if={"question": "has_insurance", "equals": "yes"},
                ),
                _q(
                    "group_number",
                    T.SHORT_TEXT,
                    "Group number",
                    show_if={"question": "has_insurance", "equals": "yes"},
                ),
                _q(
                    "policy_holder",
                    T.SINGLE_CHOICE,
                    "Policy holder",
                    choices=_choices("Myself", "Spouse or partner", "Parent", "Other"),
                    show_if={"question": "has_insurance", "equals": "yes"},
                ),
            ],
        },
        {
            "key": "allergies_medications",
            "title": "Allergies and medications",
            "questions": [
                _q(
                    "allergies",
                    T.ALLERGIES,
                    "Your allergies",
                    required=True,
                    help="Confirm the allergies we have on file and add any we are missing.",
                ),
                _q(
                    "medications",
                    T.MEDICATIONS,
                    "Medications you take",
                    required=True,
                    help="Include medicines without a prescription, vitamins and supplements.",
                ),
            ],
        },
        {
            "key": "history",
            "title": "Health history",
            "questions": [
                _q(
                    "conditions",
                    T.MULTIPLE_CHOICE,
                    "Have you ever been told you have any of these?",
                    choices=_choices(
                        "Asthma",
                        "Diabetes",
                        "High blood pressure",
                        "Heart disease",
                        "Depression or anxiety",
                        "Cancer",
                        "None of these",
                    ),
                ),
                _q("surgeries", T.LONG_TEXT, "Past surgeries or hospital stays, with the year"),
                _q(
                    "family_history",
                    T.LONG_TEXT,
                    "Illnesses that run in your family (who, and what)",
                ),
                _q(
                    "smoking",
                    T.SINGLE_CHOICE,
                    "Do you smoke or use tobacco?",
                    required=True,
                    choices=_choices("Never", "In the past", "Yes, now"),
                ),
                _q(
                    "packs_per_day",
                    T.NUMBER,
                    "How many packs a day?",
                    unit="packs",
                    min="0",
                    max="10",
                    decimals=1,
                    show_if={"question": "smoking", "equals": "yes_now"},
                ),
                _q(
                    "alcohol",
                    T.SINGLE_CHOICE,
                    "How often do you drink alcohol?",
                    choices=_choices("Never", "Monthly or less", "Weekly", "Daily"),
                ),
                _q("height", T.NUMBER, "Height", unit="in", min="12", max="100"),
                _q("weight", T.NUMBER, "Weight", unit="lb", min="1", max="1000", decimals=1),
            ],
        },
        {
            "key": "consent",
            "title": "Consent to treat",
            "questions": [
                _q(
                    "consent_to_treat",
                    T.CONSENT,
                    "Consent to treatment",
                    required=True,
                    consent_text=CONSENT_TO_TREAT,
                ),
            ],
        },
    ]
}

FOLLOW_UP = {
    "sections": [
        {
            "key": "visit",
            "title": "About this visit",
            "questions": [
                _q(
                    "reason",
                    T.LONG_TEXT,
                    "What would you like to talk about at this visit?",
                    required=True,
                ),
                _q(
                    "changed",
                    T.YES_NO,
                    "Has anything changed in your health since your last visit?",
                    required=True,
                ),
                _q(
                    "changes",
                    T.LONG_TEXT,
                    "What has changed?",
                    required=True,
                    show_if={"question": "changed", "equals": "yes"},
                ),
                _q("last_visit_date", T.DATE, "When did you last see another doctor, if ever?"),
                _q("pain", T.NUMBER, "Pain today, from 0 (none) to 10 (worst)", min="0", max="10"),
            ],
        },
        {
            "key": "allergies_medications",
            "title": "Allergies and medications",
            "questions": [
                _q("allergies", T.ALLERGIES, "Your allergies", required=True),
                _q("medications", T.MEDICATIONS, "Medications you take", required=True),
            ],
        },
    ]
}

READY_TEMPLATES: dict[str, tuple[str, dict]] = {
    "new_patient": ("New patient", NEW_PATIENT),
    "follow_up": ("Follow-up visit", FOLLOW_UP),
}
