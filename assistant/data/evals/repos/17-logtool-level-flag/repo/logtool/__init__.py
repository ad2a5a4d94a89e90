"""Reading and filtering application logs: `python -m logtool FILE`."""
