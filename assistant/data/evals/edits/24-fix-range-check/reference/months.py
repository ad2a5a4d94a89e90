MONTH_NAMES = [
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
]


def is_valid_month(month):
    return 1 <= month <= 12


def month_name(month):
    if not is_valid_month(month):
        raise ValueError(f"no month {month}")
    return MONTH_NAMES[month - 1]
