"""The sliding window and the token counters it is measured with, exact per backend."""
