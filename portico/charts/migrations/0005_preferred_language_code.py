"""The chart's preferred language becomes a BCP 47 code from a list (issue 13), so the portal can
speak it. Names written before ("English", "Spanish", "Español") become their code; a language
not on the list becomes blank (not recorded) and is printed so the practice can set it again."""

from django.db import migrations, models


NAMES = {
    "english": "en",
    "spanish": "es",
    "español": "es",
    "espanol": "es",
    "castellano": "es",
    "chinese": "zh",
    "mandarin": "zh",
    "cantonese": "zh",
    "vietnamese": "vi",
    "tagalog": "tl",
    "filipino": "tl",
    "arabic": "ar",
    "french": "fr",
    "haitian creole": "ht",
    "korean": "ko",
    "russian": "ru",
    "portuguese": "pt",
    "german": "de",
    "polish": "pl",
    "italian": "it",
    "hindi": "hi",
    "japanese": "ja",
    "persian": "fa",
    "farsi": "fa",
    "urdu": "ur",
    "somali": "so",
}
CODES = set(NAMES.values())


def names_to_codes(apps, schema_editor):
    Patient = apps.get_model("charts", "Patient")
    unknown = 0
    for value in Patient.objects.values_list("preferred_language", flat=True).distinct():
        key = (value or "").strip().lower()
        code = key if key in CODES else NAMES.get(key, "")
        if code != value:
            unknown += bool(key) and not code
            Patient.objects.filter(preferred_language=value).update(preferred_language=code)
    if unknown:
        print(f"\n  {unknown} preferred language name(s) not on the list were cleared")


def codes_to_names(apps, schema_editor):
    Patient = apps.get_model("charts", "Patient")
    names = {code: name for name, code in reversed(list(NAMES.items()))}
    for code, name in names.items():
        Patient.objects.filter(preferred_language=code).update(preferred_language=name.title())


class Migration(migrations.Migration):
    dependencies = [
        ("charts", "0004_patient_record_version"),
    ]

    operations = [
        migrations.RunPython(names_to_codes, codes_to_names),
        migrations.AlterField(
            model_name="patient",
            name="preferred_language",
            field=models.CharField(
                blank=True,
                choices=[
                    ("en", "English"),
                    ("es", "Spanish"),
                    ("zh", "Chinese"),
                    ("vi", "Vietnamese"),
                    ("tl", "Tagalog"),
                    ("ar", "Arabic"),
                    ("fr", "French"),
                    ("ht", "Haitian Creole"),
                    ("ko", "Korean"),
                    ("ru", "Russian"),
                    ("pt", "Portuguese"),
                    ("de", "German"),
                    ("pl", "Polish"),
                    ("it", "Italian"),
                    ("hi", "Hindi"),
                    ("ja", "Japanese"),
                    ("fa", "Persian"),
                    ("ur", "Urdu"),
                    ("so", "Somali"),
                ],
                max_length=16,
                verbose_name="Preferred language",
            ),
        ),
    ]
