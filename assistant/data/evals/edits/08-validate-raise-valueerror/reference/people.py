class Person:
    def __init__(self, name, age):
        if not name:
            raise ValueError("name must not be empty")
        if age < 0 or age > 150:
            raise ValueError(f"age must be between 0 and 150, not {age}")
        self.name = name
        self.age = age

    def greeting(self):
        return f"{self.name} ({self.age})"
