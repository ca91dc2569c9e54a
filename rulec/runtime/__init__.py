"""Stage 6: running rules (genome files now; training and meta-training build on them)."""
