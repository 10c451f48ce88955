"""Find passages: the Chroma memory, the keyword index, embeddings, stemming, fusion."""
