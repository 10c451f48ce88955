"""Make answers hold up: the per-sentence support check, the extractive fallback, the settled answer."""
