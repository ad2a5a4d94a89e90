class Duration:
    def __init__(self, seconds):
        self.seconds = seconds

    @classmethod
    def parse(cls, text):
        """A duration written "MM:SS"."""
        minutes, _, seconds = text.partition(":")
        return cls(int(minutes) * 60 + int(seconds))

    def minutes(self):
        return self.seconds / 60
