"""Spanish as a US clinic writes it: the day before the month in words, the 12-hour clock its
patients read on every other US paper. Dates typed into a form are read the US way in both
languages (month first), as the clinic's paper forms ask for them."""

DATE_FORMAT = r"j \d\e F \d\e Y"
DATETIME_FORMAT = r"j \d\e F \d\e Y, g:i A"
TIME_FORMAT = "g:i A"
SHORT_DATE_FORMAT = "d/m/Y"
SHORT_DATETIME_FORMAT = "d/m/Y g:i A"
MONTH_DAY_FORMAT = r"j \d\e F"
YEAR_MONTH_FORMAT = r"F \d\e Y"
DATE_INPUT_FORMATS = ["%Y-%m-%d", "%m/%d/%Y", "%m/%d/%y"]
