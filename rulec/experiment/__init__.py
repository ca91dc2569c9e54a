"""rulec's experiments from Python: `train`, `compare` and `meta_train` (re-exported as `rulec.train`, ...).

Each takes plain settings and an optional progress callback, returns a results object (accuracies, monitors,
genome, history), and neither prints nor writes files of its own: the commands of rulec/commands/ are thin layers
that parse flags, call these, then print and write. A setting the library refuses raises `SettingError`, which
names the setting; the command line reports it against the flag of that name.
"""
