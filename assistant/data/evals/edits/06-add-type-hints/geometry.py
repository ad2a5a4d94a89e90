import math


def circle_area(radius):
    return math.pi * radius ** 2


def scale(points, factor):
    return [(x * factor, y * factor) for x, y in points]
