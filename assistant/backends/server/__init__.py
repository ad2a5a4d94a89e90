"""An OpenAI-compatible inference server (llama-server, vLLM, Ollama, …) as a backend."""
