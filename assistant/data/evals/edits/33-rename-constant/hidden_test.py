import queue_limits

assert queue_limits.MAX_QUEUE_SIZE == 100
assert not hasattr(queue_limits, "MAXSIZE"), "MAXSIZE is still there"
assert queue_limits.can_add([1]) and queue_limits.room_left([1]) == 99
queue_limits.MAX_QUEUE_SIZE = 2
assert not queue_limits.can_add([1, 2]), "can_add does not read MAX_QUEUE_SIZE"
assert queue_limits.room_left([1]) == 1, "room_left does not read MAX_QUEUE_SIZE"
