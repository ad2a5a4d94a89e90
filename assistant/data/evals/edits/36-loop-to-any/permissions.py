def has_admin(users):
    for user in users:
        if user.get("role") == "admin":
            return True
    return False
