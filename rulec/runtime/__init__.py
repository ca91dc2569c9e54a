"""Stage 6: running rules: training against baselines, genome files, and the file, lock and resource guards
that training and meta-training share."""
