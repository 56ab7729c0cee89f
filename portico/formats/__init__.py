"""Date formats per language (FORMAT_MODULE_PATH), overriding Django's where a US clinic writes
dates otherwise. Templates name a format ("DATE_FORMAT", "DATETIME_FORMAT", …), never a
pattern, so a Spanish page writes "30 de noviembre de 2026" where an English one writes
"November 30, 2026"."""
