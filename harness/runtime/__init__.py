"""``golf-check run``: run a candidate under audit, seed by seed, and measure what it did.

* ``command``: the click command; ``runner.execute``: every seed, then flip test and canary;
* ``target``: what to run (script, folder, module, the reference model);
* ``session``: one seed's run (folders, environment, ledger collection) -> ``SeedAudit``;
* ``sandbox`` / ``sandbox_entry``: network and mount namespaces, or the audit-hook fallback;
* ``launcher``: the process group, the timestamped log, the timeout, leftover processes;
* ``shim``: the audit hooks injected into every Python process of the run;
* ``valindex`` / ``trace``: where model inputs sit in the validation stream, and the replay;
* ``measure``: artifact, code bytes, training and evaluation time on the harness clock;
* ``flip`` / ``canary``: the C1 perturbation test and the synthetic-stream bound;
* ``report``: findings (rules/ detectors, ``check_seeds``) and the per-seed/multi-seed report.
"""
