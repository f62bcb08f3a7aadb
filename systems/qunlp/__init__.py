"""QU-NLP reference system: two-stage QLoRA answer generator and BM25 + TF-IDF + cross-encoder evidence aligner."""
