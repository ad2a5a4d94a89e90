class Duration:
    def __init__(self, seconds):
        self.seconds = seconds

    def minutes(self):
        return self.seconds / 60
