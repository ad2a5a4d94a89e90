MAXSIZE = 100


def can_add(queue):
    return len(queue) < MAXSIZE


def room_left(queue):
    return max(0, MAXSIZE - len(queue))
