class Rectangle:
    def __init__(self, width, height):
        self.width = width
        self.height = height

    @property
    def area(self):
        return self.width * self.height


def total_area(rectangles):
    return sum(r.area for r in rectangles)
