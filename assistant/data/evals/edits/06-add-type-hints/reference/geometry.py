import math


def circle_area(radius: float) -> float:
    return math.pi * radius ** 2


def scale(points: list[tuple[float, float]], factor: float) -> list[tuple[float, float]]:
    return [(x * factor, y * factor) for x, y in points]
