"""Meta-learning: tasks, objectives, the population engine, gradient and evolution methods, checkpoints."""
