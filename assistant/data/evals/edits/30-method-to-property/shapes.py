class Rectangle:
    def __init__(self, width, height):
        self.width = width
        self.height = height

    def get_area(self):
        return self.width * self.height


def total_area(rectangles):
    return sum(r.get_area() for r in rectangles)
