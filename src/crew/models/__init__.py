"""Chat models: provider specs, the embedded llama.cpp model, the fake demo model, structured output."""
