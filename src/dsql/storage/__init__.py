"""Storage: order-preserving key codec, row codec, and the multi-version store."""
