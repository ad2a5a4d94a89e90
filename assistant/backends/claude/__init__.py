"""The Claude backend: Anthropic's Messages API through the `anthropic` SDK."""
