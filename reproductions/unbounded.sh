# Sourced by the reproductions that were run before blur.rule bounded its synapse forget gate (f_w in [0, 1]):
# writes runs/blur_unbounded.rule, blur.rule without that bound, on which they run as they were first run.
mkdir -p runs
sed 's/f_w = 1.0 in \[0, 1\];/f_w = 1.0;/' stdlib_rules/blur.rule > runs/blur_unbounded.rule
