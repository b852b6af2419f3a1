"""Log evidence: parse record logs and submission.json, recompute budgets, means and p-values.

``golf-check verify`` lives here. The pieces, one concept each:

* ``logparse``: one streaming parser for every record log format (``parse_log``);
* ``canonical``: the canonical validation token and byte counts per tokenizer family;
* ``submission``: the submission.json schema and a lenient loader for its historical variety;
* ``stats``: means, standard deviations and the significance tests;
* ``model``: ``SeedEvidence`` (one run, whoever measured it) and ``EvidenceSet``;
* ``checks``: ``check_seeds``, which applies the budget and evidence rules to seeds;
* ``runreport``: read a ``golf-check run`` JSON report back as seeds;
* ``verifier``: ``verify_path``, the folder/report walker that builds the verify report.
"""
