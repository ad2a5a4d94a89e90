"""Built-in backends, registered through the `assistant.backends` entry-point group."""
