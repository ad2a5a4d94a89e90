def has_admin(users):
    return any(user.get("role") == "admin" for user in users)
