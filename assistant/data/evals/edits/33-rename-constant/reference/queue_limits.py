MAX_QUEUE_SIZE = 100


def can_add(queue):
    return len(queue) < MAX_QUEUE_SIZE


def room_left(queue):
    return max(0, MAX_QUEUE_SIZE - len(queue))
