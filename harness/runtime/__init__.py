"""``golf-check run``: run a candidate under audit, seed by seed, and measure what it did.

* ``command``: the click command; ``runner.execute``: every seed, then flip test and canary;
* ``target``: what to run (script, folder, module, the reference model);
* ``session``: one seed's run (folders, environment, ledger collection) -> ``SeedAudit``;
* ``sandbox`` / ``sandbox_entry``: the bubblewrap command line, and pid 1 inside it (rlimits,
  leftover processes); the audit-hook fallback where bubblewrap is missing;
* ``launcher``: the process group, the timestamped log, the timeout, leftover processes;
* ``shim``: the audit hooks injected into every Python process of the run;
* ``valindex`` / ``trace``: where model inputs sit in the validation stream, and the replay;
* ``measure``: artifact, code bytes, training and evaluation time on the harness clock;
* ``flip`` / ``canary`` / ``canary_source`` / ``canary_data``: the C1 perturbation test, and
  the keyed canary split served in place of the real one, with its exact code length;
* ``report``: findings (rules/ detectors, ``check_seeds``) and the per-seed/multi-seed report.
"""
